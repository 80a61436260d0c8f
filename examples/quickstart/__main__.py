"""Quickstart: two routed numbers on the embedded sandbox (no account, no network).

Config (all optional): ``voiceTarget``, ``smsTarget``, ``areaCode``, ``maxMonthlyCost``.
"""

import pulumi

from pulumi_phonenumbers import PhoneNumber, RoutingArgs

config = pulumi.Config()
voice_target = config.get("voiceTarget") or "app-support-v1"
sms_target = config.get("smsTarget") or "sms-inbox"
area_code = config.get("areaCode") or "415"
max_cost = config.get_float("maxMonthlyCost")

support = PhoneNumber(
    "support",
    country="US",
    area_code=area_code,
    capabilities=["voice", "sms"],
    max_monthly_cost=max_cost,
    routing=RoutingArgs(voice_target=voice_target, sms_target=sms_target, label="Support"),
)
sales = PhoneNumber(
    "sales",
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
