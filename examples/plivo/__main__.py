"""The quickstart against Plivo: two routed numbers, bought and released with the stack.

Credentials: ``pulumi config set --secret phonenumbers:plivoAuthId ...`` and
``phonenumbers:plivoAuthToken`` (or PLIVO_AUTH_ID / PLIVO_AUTH_TOKEN), or the emulator's
printed config. Optional config: ``voiceTarget`` (a Plivo application id; without it the
account's default application answers), ``areaCode``, ``maxMonthlyCost``.
"""

import pulumi

from pulumi_phonenumbers import PhoneNumber, RoutingArgs

config = pulumi.Config()
voice_target = config.get("voiceTarget")
area_code = config.get("areaCode") or "415"
max_cost = config.get_float("maxMonthlyCost")

support = PhoneNumber(
    "support",
    vendor="plivo",
    country="US",
    area_code=area_code,
    capabilities=["voice", "sms"],
    max_monthly_cost=max_cost,
    routing=RoutingArgs(voice_target=voice_target, label="Support"),
)
sales = PhoneNumber(
    "sales",
    vendor="plivo",
    country="US",
    area_code=area_code,
    capabilities=["voice"],
    max_monthly_cost=max_cost,
    routing=RoutingArgs(voice_target=voice_target, label="Sales"),
)

pulumi.export("support", support.number)
pulumi.export("sales", sales.number)
pulumi.export(
    "monthly_cost", pulumi.Output.all(support.monthly_cost, sales.monthly_cost).apply(sum)
)
