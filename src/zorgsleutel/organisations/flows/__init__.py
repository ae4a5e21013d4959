"""Organisation flows: business customers, care provider applications, validation, suspension."""

from zorgsleutel.organisations.flows.business import create_business_customer

__all__ = ["create_business_customer"]
