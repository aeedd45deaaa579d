"""The Models REST API (api.salesforce.com/einstein/platform/v1): requests as the generated Apex sends them."""
