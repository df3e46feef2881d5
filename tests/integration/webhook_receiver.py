#!/usr/bin/env python3
"""A stand-in for a group-chat robot, for live_redis.sh: records every POST as one
line "STATUS PATH BODY" in OUT, answers 503 to the first FAIL_FIRST posts and then
200 {"errcode":0,"errmsg":"ok"} as DingTalk and WeCom do. Writes its port to
PORT_FILE once it listens.
usage: webhook_receiver.py OUT PORT_FILE [FAIL_FIRST]"""
import http.server
import os
import sys

out, port_file = sys.argv[1], sys.argv[2]
fail_first = int(sys.argv[3]) if len(sys.argv) > 3 else 0


class Robot(http.server.BaseHTTPRequestHandler):
    posts = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Robot.posts += 1
        status = 503 if Robot.posts <= fail_first else 200
        with open(out, "ab") as f:
            f.write(b"%d %s %s\n" % (status, self.path.encode(), body))
        answer = b'{"errcode":0,"errmsg":"ok"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Robot)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_port))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
