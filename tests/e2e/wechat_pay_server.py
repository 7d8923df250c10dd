#!/usr/bin/env python3
# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The fake WeChat Pay of property_billing's tests as a process, for the
browser tests (scripts/test.d/20-e2e):

    python tests/e2e/wechat_pay_server.py --notify-url URL --appid APPID \\
        --work DIR --config DIR/wechat_pay.conf

Starts the fake on a free loopback port with fresh keys, writes the keys to
DIR and the [wechat_pay] section of a trytond configuration pointing at the
fake to --config (written last: its presence means the fake is ready), and
serves until it is terminated.  The section sets `simulation = True`: the
server may tell the H5 site that its WeChat Pay is the fake.
"""
import argparse
import json
import pathlib
import signal
import sys

from cryptography.hazmat.primitives import serialization


def pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode('ascii')


def write_config(keys, base_url, notify_url, work, path):
    work.mkdir(parents=True, exist_ok=True)
    merchant_key = work / 'apiclient_key.pem'
    merchant_key.write_text(pem_private(keys.merchant_key))
    merchant_key.chmod(0o600)
    platform_keys = {}
    for serial, pem in keys.platform_keys().items():
        file = work / f'{serial}.pem'
        file.write_text(pem)
        platform_keys[serial] = str(file)
    options = {
        'mchid': keys.mchid,
        'appid': keys.appid,
        'merchant_serial': keys.merchant_serial,
        'merchant_key': str(merchant_key),
        'apiv3_key': keys.apiv3_key,
        'platform_keys': json.dumps(platform_keys),
        'pay_base_url': base_url,
        'notify_url': notify_url,
        'simulation': 'True',
        }
    text = '[wechat_pay]\n' + ''.join(
        f'{name} = {value}\n' for name, value in options.items())
    partial = path.with_name(path.name + '.part')
    partial.write_text(text)
    partial.rename(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--notify-url', required=True,
        help="where trytond receives WeChat Pay notifications")
    parser.add_argument('--appid', required=True,
        help="the mini-program of the payments ([wechat] appid)")
    parser.add_argument('--work', required=True, type=pathlib.Path,
        help="a directory for the keys")
    parser.add_argument('--config', required=True, type=pathlib.Path,
        help="the file to write the [wechat_pay] section to")
    args = parser.parse_args(argv)

    from trytond.modules.property_billing.tests.fake_wechat_pay import (
        Keys, start)
    keys = Keys(appid=args.appid)
    server = start(keys)
    write_config(keys, server.base_url, args.notify_url, args.work,
        args.config)
    print(f"fake WeChat Pay at {server.base_url}", file=sys.stderr,
        flush=True)

    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        signal.pause()
    finally:
        server.stop()


if __name__ == '__main__':
    sys.exit(main())
