#!/usr/bin/env python3
"""Fake AWS endpoints for the unit tests of the AWS backends, in the Python
standard library, on 127.0.0.1 only:

  STS        POST / with Action=AssumeRoleWithWebIdentity
  IMDSv2     PUT /latest/api/token, GET /latest/meta-data/iam/...
  container  GET /v1/credentials (EKS Pod Identity, ECS)
  SNS        POST / with Action=Publish or PublishBatch (form body)
  SQS        POST / with X-Amz-Target: AmazonSQS.SendMessageBatch

Usage: fake_aws.py PORT_FILE LOG_FILE
It binds port 0, writes the port to PORT_FILE and appends one JSON line per
request to LOG_FILE (method, path, headers, form or JSON body).

Behaviour is set with POST /_control (JSON):
  {"clock_ms": N}        the clock that credential expiry is relative to
  {"expiry_s": N}        lifetime of issued credentials (default 300)
  {"script": [...]}      responses for the next SNS/SQS calls, one per
                         call: "ok", "expired", "throttled", "skew",
                         "internal", {"fail": {"ENTRY_ID": "receiver" or
                         "sender"}} (a partial batch failure)
  {"container_token": T} the Authorization value the container endpoint
                         requires
"""
import datetime
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state = {
    "clock_ms": None,
    "expiry_s": 300,
    "script": [],
    "container_token": "pod-identity-token",
    "issued": 0,
}
lock = threading.Lock()
log_file = None


def now_ms():
    if state["clock_ms"] is not None:
        return state["clock_ms"]
    return int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)


def expiration():
    t = now_ms() / 1000 + state["expiry_s"]
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_credentials(prefix):
    state["issued"] += 1
    n = state["issued"]
    return {"AccessKeyId": "ASIA%s%04d" % (prefix, n),
            "SecretAccessKey": "secret-%s-%d" % (prefix, n),
            "Token": "token-%s-%d" % (prefix, n),
            "Expiration": expiration()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="text/xml", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def record(self, body):
        entry = {"method": self.command, "path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()},
                 "body": body}
        with lock:
            log_file.write(json.dumps(entry) + "\n")
            log_file.flush()

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode() if n else ""

    def do_PUT(self):
        body = self.read_body()
        self.record(body)
        if self.path == "/latest/api/token" and self.headers.get(
                "x-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(200, "imds-session-token", "text/plain")
        self.reply(404, "not found", "text/plain")

    def do_GET(self):
        self.record("")
        if self.path.startswith("/latest/meta-data/iam/security-credentials"):
            if self.headers.get("x-aws-ec2-metadata-token") != \
                    "imds-session-token":
                return self.reply(401, "", "text/plain")
            if self.path.endswith("/"):
                return self.reply(200, "node-role", "text/plain")
            if self.path.endswith("/node-role"):
                with lock:
                    c = new_credentials("IMDS")
                c.update({"Code": "Success", "Type": "AWS-HMAC"})
                return self.reply(200, json.dumps(c), "application/json")
        if self.path == "/v1/credentials":
            if self.headers.get("Authorization") != state["container_token"]:
                return self.reply(403, '{"message":"bad token"}',
                                  "application/json")
            with lock:
                c = new_credentials("CONT")
            return self.reply(200, json.dumps(c), "application/json")
        self.reply(404, "not found", "text/plain")

    def do_POST(self):
        body = self.read_body()
        if self.path == "/_control":
            with lock:
                state.update(json.loads(body))
            return self.reply(200, "{}", "application/json")
        self.record(body)
        target = self.headers.get("X-Amz-Target", "")
        if target.startswith("AmazonSQS."):
            return self.sqs(json.loads(body))
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        action = form.get("Action")
        if action == "AssumeRoleWithWebIdentity":
            return self.sts(form)
        if action in ("Publish", "PublishBatch"):
            return self.sns(action, form)
        self.reply(400, "<ErrorResponse><Error><Type>Sender</Type><Code>"
                   "InvalidAction</Code><Message>unknown</Message></Error>"
                   "</ErrorResponse>")

    def sts(self, form):
        if form.get("WebIdentityToken") != "web-identity-token" or \
                not form.get("RoleArn"):
            return self.reply(400, "<ErrorResponse><Error><Type>Sender</Type>"
                              "<Code>InvalidIdentityToken</Code><Message>"
                              "bad token</Message></Error></ErrorResponse>")
        with lock:
            c = new_credentials("STS")
        self.reply(200, (
            "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
            "<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s"
            "</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s"
            "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
            "</AssumeRoleWithWebIdentityResponse>") % (
                c["AccessKeyId"], c["SecretAccessKey"], c["Token"],
                c["Expiration"]))

    def next_step(self):
        with lock:
            return state["script"].pop(0) if state["script"] else "ok"

    def sns_error(self, step):
        codes = {"expired": (403, "Sender", "ExpiredToken"),
                 "throttled": (429, "Sender", "Throttled"),
                 "skew": (400, "Sender", "RequestExpired"),
                 "internal": (500, "Receiver", "InternalError"),
                 "invalid": (400, "Sender", "InvalidParameter")}
        status, kind, code = codes[step]
        self.reply(status, "<ErrorResponse><Error><Type>%s</Type><Code>%s"
                   "</Code><Message>%s from the fake</Message></Error>"
                   "</ErrorResponse>" % (kind, code, code))

    def sns(self, action, form):
        step = self.next_step()
        if isinstance(step, str) and step != "ok":
            return self.sns_error(step)
        if action == "Publish":
            return self.reply(200, "<PublishResponse><PublishResult><MessageId>"
                              "m-1</MessageId></PublishResult></PublishResponse>")
        fail = step.get("fail", {}) if isinstance(step, dict) else {}
        ok, failed = [], []
        n = 1
        while "PublishBatchRequestEntries.member.%d.Id" % n in form:
            entry_id = form["PublishBatchRequestEntries.member.%d.Id" % n]
            if entry_id in fail:
                failed.append(
                    "<member><Id>%s</Id><Code>%s</Code><Message>fake</Message>"
                    "<SenderFault>%s</SenderFault></member>" % (
                        entry_id,
                        "InternalError" if fail[entry_id] == "receiver"
                        else "InvalidParameter",
                        "false" if fail[entry_id] == "receiver" else "true"))
            else:
                ok.append("<member><Id>%s</Id><MessageId>m-%d</MessageId>"
                          "</member>" % (entry_id, n))
            n += 1
        self.reply(200, "<PublishBatchResponse><PublishBatchResult><Successful>"
                   "%s</Successful><Failed>%s</Failed></PublishBatchResult>"
                   "</PublishBatchResponse>" % ("".join(ok), "".join(failed)))

    def sqs(self, body):
        step = self.next_step()
        if step == "expired":
            return self.reply(400, json.dumps({
                "__type": "com.amazonaws.sqs#ExpiredToken",
                "message": "expired"}), "application/x-amz-json-1.0")
        if step == "throttled":
            return self.reply(400, json.dumps({
                "__type": "com.amazonaws.sqs#RequestThrottled",
                "message": "slow down"}), "application/x-amz-json-1.0",
                {"x-amzn-query-error":
                 "AWS.SimpleQueueService.RequestThrottled;Sender"})
        fail = step.get("fail", {}) if isinstance(step, dict) else {}
        ok = [{"Id": e["Id"], "MessageId": "m", "MD5OfMessageBody": "x"}
              for e in body["Entries"] if e["Id"] not in fail]
        failed = [{"Id": i, "SenderFault": kind == "sender",
                   "Code": "InvalidMessageContents" if kind == "sender"
                   else "InternalError", "Message": "fake"}
                  for i, kind in fail.items()]
        self.reply(200, json.dumps({"Successful": ok, "Failed": failed}),
                   "application/x-amz-json-1.0")


def main():
    global log_file
    port_file, log_path = sys.argv[1], sys.argv[2]
    log_file = open(log_path, "a")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    import os
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
