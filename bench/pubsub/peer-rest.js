// A second peer of bench-pubsub, for a comparison over the same transport
// as ours: the same events and batch limits, published with plain REST
// (fetch, HTTP/1.1 JSON) to the emulator at PUBSUB_EMULATOR_HOST, with
// IN_FLIGHT requests at once.
//   node peer-rest.js EVENTS_FILE PROJECT TOPIC IN_FLIGHT
'use strict';
const fs = require('fs');

async function main() {
    const [file, project, topic, inFlightText] = process.argv.slice(2);
    const inFlight = Number(inFlightText || 8);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const url = `http://${process.env.PUBSUB_EMULATOR_HOST}/v1/projects/${project}/topics/${topic}:publish`;
    const batches = [];
    for (let i = 0; i < lines.length; i += 1000)
        batches.push(lines.slice(i, i + 1000));

    const start = process.hrtime.bigint();
    let next = 0;
    async function worker() {
        while (next < batches.length) {
            const batch = batches[next++];
            const messages = batch.map(line => ({
                data: Buffer.from(line.slice(line.indexOf('\t') + 1)).toString('base64'),
                attributes: {'content-type': 'application/cloudevents+json'},
            }));
            const response = await fetch(url, {
                method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({messages}),
            });
            if (!response.ok)
                throw new Error(`HTTP ${response.status}`);
            await response.json();
        }
    }
    await Promise.all(Array.from({length: inFlight}, worker));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`peer events=${lines.length} seconds=${seconds.toFixed(3)}`);
}

main().catch(err => {
    console.error(`peer failed: ${err.message}`);
    process.exit(1);
});
