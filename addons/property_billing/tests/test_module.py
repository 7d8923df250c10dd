# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.modules.company.tests import CompanyTestMixin
from trytond.modules.property_community.tests.tools import (
    ListViewTestMixin)
from trytond.tests.test_tryton import ModuleTestCase


class PropertyBillingTestCase(
        ListViewTestMixin, CompanyTestMixin, ModuleTestCase):
    "Test Property Billing module"
    module = 'property_billing'


del ModuleTestCase
