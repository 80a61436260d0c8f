// The program: one Plivo number routed to `voiceTarget`, plus a look-up that buys nothing.
import * as phonenumbers from "pulumi-phonenumbers";

export function program(voiceTarget: string) {
    return async () => {
        const support = new phonenumbers.PhoneNumber("support", {
            vendor: "plivo",
            country: "US",
            area_code: "415",
            routing: { voice_target: voiceTarget, label: "Support" },
        });
        const offered = await phonenumbers.getAvailableNumbers({ vendor: "plivo", area_code: "415", limit: 3 });
        return {
            number: support.number,
            offered: offered.numbers.map((n) => n.number),
        };
    };
}
