"""The second face: ``pulumi-resource-phonenumbers``, a native Pulumi provider plugin.

It serves ``schema.json`` (resource ``phonenumbers:index:PhoneNumber``, component
``phonenumbers:index:PhoneNumberFleet``, function ``phonenumbers:index:getAvailableNumbers``)
to programs in any language and to ``pulumi import``, over the same core as the dynamic
provider: every check / diff / create / read / update / delete is a call into
:class:`~pulumi_phonenumbers.provider.PhoneNumberProvider`. The dynamic resource is untouched.
"""

from __future__ import annotations

__all__ = ["FLEET_TYPE", "FUNCTION_TOKEN", "RESOURCE_TYPE"]

#: The native resource's type token (the dynamic face's is ``inputs.PHONE_NUMBER_TYPE``).
RESOURCE_TYPE = "phonenumbers:index:PhoneNumber"
#: The component served through ``Construct``.
FLEET_TYPE = "phonenumbers:index:PhoneNumberFleet"
#: The look-up served through ``Invoke`` (searches only).
FUNCTION_TOKEN = "phonenumbers:index:getAvailableNumbers"
