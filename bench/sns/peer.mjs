// The peer of bench-sns: @aws-sdk/client-sns PublishBatch with the same
// messages, batch size and concurrency as fce-publisher, against the same
// fauxqs. Usage:
//   node peer.mjs ENDPOINT TOPIC_ARN EVENTS_FILE BATCH CONCURRENCY
// EVENTS_FILE has "KEY<TAB>STRUCTURED JSON" lines. Prints one JSON line:
// {"events": N, "seconds": S, "cpu_us": C} for the publish phase only.
// The SDK comes from the pinned packages in FCE_NPM_DIR (tests/npm).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(`${process.env.FCE_NPM_DIR}/`);
const { SNSClient, PublishBatchCommand } = require("@aws-sdk/client-sns");

const [endpoint, topicArn, eventsFile, batchText, concurrencyText] =
    process.argv.slice(2);
const batchSize = Number(batchText);
const concurrency = Number(concurrencyText);
const messages = readFileSync(eventsFile, "utf8").split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line.slice(line.indexOf("\t") + 1)));

const client = new SNSClient({
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "bench" },
    maxAttempts: 3,
});

const batches = [];
for (let i = 0; i < messages.length; i += batchSize) {
    batches.push(messages.slice(i, i + batchSize).map((event, k) => ({
        Id: `r${i + k}`,
        Message: JSON.stringify(event),
        Subject: event.subject,
    })));
}

let next = 0;
let failed = 0;
async function worker() {
    while (next < batches.length) {
        const entries = batches[next++];
        const out = await client.send(new PublishBatchCommand({
            TopicArn: topicArn, PublishBatchRequestEntries: entries }));
        failed += (out.Failed ?? []).length;
    }
}

const cpu0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
client.destroy();
console.log(JSON.stringify({ events: messages.length, failed, seconds,
                             cpu_us: cpu.user + cpu.system }));
