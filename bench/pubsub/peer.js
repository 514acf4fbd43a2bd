// The peer of bench-pubsub: publishes the same pre-rendered structured
// CloudEvents with the official Node.js client (@google-cloud/pubsub) and
// the same batch limits, to the emulator that PUBSUB_EMULATOR_HOST names.
//   node peer.js EVENTS_FILE PROJECT TOPIC
// EVENTS_FILE has "KEY<TAB>JSON" lines. Prints one "peer events=N
// seconds=S" line; the clock starts after the file is read.
'use strict';
const fs = require('fs');
const path = require('path');
const {PubSub} = require(path.join(__dirname, '../../tests/npm-gcp/node_modules/@google-cloud/pubsub'));

async function main() {
    const [file, project, topicName] = process.argv.slice(2);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const events = lines.map(line => Buffer.from(line.slice(line.indexOf('\t') + 1)));
    const pubsub = new PubSub({projectId: project});
    const topic = pubsub.topic(topicName, {
        batching: {maxMessages: 1000, maxBytes: 10000000, maxMilliseconds: 5},
    });
    const attributes = {'content-type': 'application/cloudevents+json'};

    const start = process.hrtime.bigint();
    await Promise.all(events.map(data => topic.publishMessage({data, attributes})));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`peer events=${events.length} seconds=${seconds.toFixed(3)}`);
    await pubsub.close();
}

main().catch(err => {
    console.error(`peer failed: ${err.message}`);
    process.exit(1);
});
