// A gRPC front for the fake Pub/Sub server of tests/helpers/fake-gcp, so
// that the gRPC transport meets the same token checks, limits and failure
// rules as the REST one. It is a real gRPC server (@grpc/grpc-js) on
// 127.0.0.1 that decodes each PublishRequest with Google's own
// pubsub.proto (shipped in @google-cloud/pubsub), forwards it as REST JSON
// to the fake with the caller's authorization header, and maps the
// fake's answer back to a gRPC status.
//
//   node fake-grpc-front.js UPSTREAM_URL [--tls CERT KEY]
//
// Prints "port=N" once it listens, then one line per call:
//   call peer=IP:PORT concurrent=N messages=N status=NAME
// Calls whose first message has an ordering key containing "slow" are
// held 300 ms, so a test can see several calls at once. A call without
// the x-goog-request-params header for its topic fails with
// FAILED_PRECONDITION.
'use strict';
const fs = require('fs');
const path = require('path');

const modules = path.join(__dirname, '../../npm-gcp/node_modules');
const grpc = require(path.join(modules, '@grpc/grpc-js'));
const loader = require(path.join(modules, '@grpc/proto-loader'));

const [upstream, ...rest] = process.argv.slice(2);
const tls = rest[0] === '--tls' ? {cert: rest[1], key: rest[2]} : null;

const definition = loader.loadSync('google/pubsub/v1/pubsub.proto', {
    includeDirs: [
        path.join(modules, '@google-cloud/pubsub/build/protos'),
        path.join(modules, 'google-gax/build/protos'),
    ],
    longs: String,
    defaults: false,
});
const pubsub = grpc.loadPackageDefinition(definition).google.pubsub.v1;

let concurrent = 0;

function statusOf(httpStatus, name) {
    if (name && grpc.status[name] !== undefined)
        return grpc.status[name];
    if (httpStatus === 401)
        return grpc.status.UNAUTHENTICATED;
    if (httpStatus === 403)
        return grpc.status.PERMISSION_DENIED;
    if (httpStatus === 404)
        return grpc.status.NOT_FOUND;
    if (httpStatus === 429 || httpStatus >= 500)
        return grpc.status.UNAVAILABLE;
    return grpc.status.INVALID_ARGUMENT;
}

function restBody(request) {
    return JSON.stringify({
        messages: (request.messages || []).map(m => {
            const out = {data: Buffer.from(m.data || []).toString('base64')};
            if (m.attributes && Object.keys(m.attributes).length)
                out.attributes = m.attributes;
            if (m.orderingKey)
                out.orderingKey = m.orderingKey;
            return out;
        }),
    });
}

async function forward(call) {
    const request = call.request;
    const params = call.metadata.get('x-goog-request-params')[0];
    const expected = 'topic=' + encodeURIComponent(request.topic);
    if (params !== expected)
        return {code: grpc.status.FAILED_PRECONDITION,
                details: `x-goog-request-params is "${params}", expected "${expected}"`};

    const first = (request.messages || [])[0];
    if (first && (first.orderingKey || '').includes('slow'))
        await new Promise(resolve => setTimeout(resolve, 300));

    const headers = {'Content-Type': 'application/json'};
    const auth = call.metadata.get('authorization')[0];
    if (auth)
        headers.Authorization = auth;
    const response = await fetch(`${upstream}/v1/${request.topic}:publish`,
                                 {method: 'POST', headers, body: restBody(request)});
    const body = await response.json().catch(() => ({}));
    if (response.ok)
        return {messageIds: body.messageIds || []};
    const error = body.error || {};
    return {code: statusOf(response.status, error.status),
            details: error.message || `HTTP ${response.status}`};
}

function publish(call, callback) {
    concurrent++;
    const count = (call.request.messages || []).length;
    const peer = call.getPeer().replace(/^ipv4:/, '');
    const line = `call peer=${peer} concurrent=${concurrent} messages=${count}`;
    forward(call).then(result => {
        concurrent--;
        const name = result.code === undefined ? 'OK'
            : Object.keys(grpc.status).find(k => grpc.status[k] === result.code);
        console.log(`${line} status=${name}`);
        if (result.code === undefined)
            callback(null, result);
        else
            callback(result);
    }, err => {
        concurrent--;
        console.log(`${line} status=INTERNAL`);
        callback({code: grpc.status.INTERNAL, details: String(err)});
    });
}

const server = new grpc.Server();
server.addService(pubsub.Publisher.service, {Publish: publish});
const credentials = tls
    ? grpc.ServerCredentials.createSsl(null, [{
        cert_chain: fs.readFileSync(tls.cert),
        private_key: fs.readFileSync(tls.key),
    }])
    : grpc.ServerCredentials.createInsecure();
server.bindAsync('127.0.0.1:0', credentials, (err, port) => {
    if (err) {
        console.error(`fake-grpc-front: ${err.message}`);
        process.exit(1);
    }
    console.log(`port=${port}`);
});
process.on('SIGTERM', () => server.forceShutdown());
