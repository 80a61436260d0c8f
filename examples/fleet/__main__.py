"""Two number pools at two vendors, each a ``PhoneNumberFleet``.

* ``support``: ``supportSize`` voice lines on Plivo (keys "0".."N-1"; shrinking releases the
  highest keys), answered by the Plivo application ``supportApp``.
* ``sms``: one Sinch number per name in ``smsKeys`` (removing a name releases exactly that
  number), texts delivered to the Sinch service plan ``smsServicePlan``.
"""

import pulumi

from pulumi_phonenumbers import PhoneNumberFleet, RoutingArgs

config = pulumi.Config()

support = PhoneNumberFleet(
    "support",
    size=config.get_int("supportSize") or 2,
    vendor="plivo",
    country="US",
    area_code=config.get("supportAreaCode") or "415",
    capabilities=["voice"],
    max_monthly_cost=config.get_float("maxMonthlyCost"),
    routing=RoutingArgs(voice_target=config.get("supportApp"), label="Support line"),
)

sms = PhoneNumberFleet(
    "sms",
    keys=config.get_object("smsKeys") or ["alerts", "marketing"],
    vendor="sinch",
    country="US",
    capabilities=["sms"],
    max_monthly_cost=config.get_float("maxMonthlyCost"),
    routing=RoutingArgs(sms_target=config.get("smsServicePlan"), label="SMS pool"),
)

pulumi.export("support_numbers", support.numbers)
pulumi.export("sms_numbers", sms.numbers)
pulumi.export("support_monthly_cost", support.monthly_cost)
pulumi.export("sms_monthly_cost", sms.monthly_cost)
