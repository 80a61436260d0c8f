"""Take over numbers the account already owns, without buying or ever releasing them.

``pulumi import`` does not work for dynamic resources (pulumi/pulumi#16175); ``adopt=True``
is the supported way in. Config:

* ``numbers`` (required): ``{"name": "+E.164", ...}`` (or a list of numbers).
* ``vendor``: the vendor that holds them (default: ``phonenumbers:vendor``, else sandbox).
* ``voiceTarget``: where calls go (unset: left as it is); ``label``: display name
  (default: the key).
* ``capabilities``: a list the numbers must have. ``pulumi up`` checks it against what the
  vendor says each owned number can do: a number without one of them fails, naming
  ``capabilities``, and nothing is adopted or re-routed (never a re-purchase).
"""

import re

import pulumi

from pulumi_phonenumbers import PhoneNumber, RoutingArgs

config = pulumi.Config()
declared = config.require_object("numbers")
if isinstance(declared, list):
    declared = {"n" + re.sub(r"\D", "", str(number)): number for number in declared}

adopted = {
    name: PhoneNumber(
        f"adopted-{name}",
        vendor=config.get("vendor"),
        number=number,
        adopt=True,
        release_on_delete=False,
        capabilities=config.get_object("capabilities"),
        routing=RoutingArgs(
            voice_target=config.get("voiceTarget"), label=config.get("label") or name
        ),
    )
    for name, number in declared.items()
}

pulumi.export("numbers", {name: number.number for name, number in adopted.items()})
pulumi.export("vendor_ids", {name: number.vendor_id for name, number in adopted.items()})
