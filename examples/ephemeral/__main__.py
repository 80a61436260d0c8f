"""A throw-away test environment per branch: a few numbers, released at teardown.

One stack per branch (``pulumi stack init ci-<branch>``); ``branch`` defaults to the stack
name. Config: ``lines`` (how many test numbers), ``areaCode``, ``voiceTarget`` (the agent
under test; default ``agent-<branch>``).
"""

import re

import pulumi

from pulumi_phonenumbers import PhoneNumberFleet, RoutingArgs

config = pulumi.Config()
branch = config.get("branch") or pulumi.get_stack()
slug = re.sub(r"[^A-Za-z0-9._-]+", "-", branch).strip("-")[:48] or "branch"

lines = PhoneNumberFleet(
    "test-lines",
    size=config.get_int("lines") or 2,
    country="US",
    area_code=config.get("areaCode"),
    capabilities=["voice", "sms"],
    routing=RoutingArgs(
        voice_target=config.get("voiceTarget") or f"agent-{slug}",
        label=f"test line ({slug})",
    ),
    release_on_delete=True,
)

pulumi.export("branch", branch)
pulumi.export("numbers", lines.numbers)
pulumi.export("monthly_cost", lines.monthly_cost)
