// Run one step of the program as a Node Automation API inline program:
//   node bin/run.js '{"step": "up", "stack": "dev", "voiceTarget": "...", "config": {...}}'
// with the pulumi CLI on PATH and PULUMI_BACKEND_URL / PULUMI_CONFIG_PASSPHRASE set.
// Prints one JSON line: the step's outputs and change summary.
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { program } from "./index";

interface Request {
    step: "up" | "preview" | "refresh" | "destroy";
    stack: string;
    voiceTarget: string;
    config?: Record<string, { value: string; secret?: boolean }>;
}

async function main(): Promise<void> {
    const request: Request = JSON.parse(process.argv[2]);
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: request.stack, projectName: "phonenumbers-ts", program: program(request.voiceTarget) },
        { projectSettings: { name: "phonenumbers-ts", runtime: "nodejs" } },
    );
    if (request.config) {
        await stack.setAllConfig(request.config);
    }
    const result: Record<string, unknown> = { step: request.step };
    if (request.step === "up") {
        const up = await stack.up();
        result.changes = up.summary.resourceChanges;
        result.outputs = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
    } else if (request.step === "preview") {
        result.changes = (await stack.preview()).changeSummary;
    } else if (request.step === "refresh") {
        result.changes = (await stack.refresh()).summary.resourceChanges;
    } else {
        result.changes = (await stack.destroy()).summary.resourceChanges;
    }
    console.log(JSON.stringify(result));
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
});
