# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import re

from trytond.tests.test_tryton import RouteTestCase

from ..api import ALL_ROLES, PERMISSIONS, openapi
from .tools import create_account, sign_in


class PermissionMatrixTestCase(RouteTestCase):
    "Test every API operation against the front-end permission matrix"
    module = 'property_community'

    @classmethod
    def setUpDatabase(cls):
        cls.tokens = {
            role: sign_in(create_account(role, name=role))
            for role in ALL_ROLES}

    def operations(self):
        for path, operations in openapi.document()['paths'].items():
            for method, operation in operations.items():
                yield path, method, operation

    def call(self, client, method, path, role=None):
        url = f'/{self.db_name}/api/v1' + re.sub(r'\{\w+\}', '1', path)
        headers = {}
        if role:
            headers['Authorization'] = f'Bearer {self.tokens[role]}'
        return client.open(url, method=method.upper(), headers=headers,
            json={} if method in {'post', 'put', 'patch'} else None)

    def test_matrix_roles(self):
        "Test the roles of each operation are those of its permission"
        for path, method, operation in self.operations():
            if {'session': []} not in operation['security']:
                continue
            with self.subTest(path=path, method=method):
                self.assertEqual(set(operation['x-roles']),
                    PERMISSIONS[operation['x-permission']])

    def test_refused_roles(self):
        "Test roles outside an operation's permission get 403, never data"
        client = self.client()
        checked = 0
        for path, method, operation in self.operations():
            if {'session': []} not in operation['security']:
                continue
            for role in ALL_ROLES - set(operation['x-roles']):
                with self.subTest(path=path, method=method, role=role):
                    response = self.call(client, method, path, role)
                    self.assertEqual(response.status_code, 403)
                    self.assertEqual(
                        set(response.json), {'error'})
                    self.assertEqual(
                        response.json['error']['code'], 'forbidden')
                    checked += 1
        self.assertGreater(checked, 0)

    def test_allowed_roles(self):
        "Test roles of an operation's permission pass the guard"
        client = self.client()
        for path, method, operation in self.operations():
            # Signing out would end the sessions the other tests use
            if ({'session': []} not in operation['security']
                    or path == '/auth/logout'):
                continue
            for role in operation['x-roles']:
                with self.subTest(path=path, method=method, role=role):
                    response = self.call(client, method, path, role)
                    self.assertNotIn(response.status_code, {401, 403})
                    self.assertLess(response.status_code, 500)

    def test_sessions_required(self):
        "Test every secured operation answers 401 without a session"
        client = self.client()
        for path, method, operation in self.operations():
            if {'session': []} not in operation['security']:
                continue
            with self.subTest(path=path, method=method):
                response = self.call(client, method, path)
                self.assertEqual(response.status_code, 401)
                self.assertEqual(
                    response.json['error']['code'], 'unauthenticated')


del RouteTestCase
