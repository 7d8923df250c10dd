# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.modules.property_community.tests import test_permissions


class VisitorPermissionMatrixTestCase(
        test_permissions.PermissionMatrixTestCase):
    "Test every API operation against the permission matrix with visitors"
    module = 'property_visitor'
