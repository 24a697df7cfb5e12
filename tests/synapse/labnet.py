#!/usr/bin/env python3
"""Two small network helpers for tests/synapse/run.sh (standard library only).

  labnet.py sniproxy LOG LISTEN=BACKEND...
      A TCP pass-through proxy: for every connection on LISTEN (ADDR:PORT) it
      reads the TLS ClientHello, logs the SNI it carries, and then relays the
      bytes unchanged to BACKEND (ADDR:PORT), both ways. TLS is not terminated:
      the homeserver behind it does the handshake, so what a peer sees is what
      the homeserver serves. The log line is
          sni listen=ADDR:PORT sni=NAME peer=ADDR:PORT
      (sni=- when the ClientHello has no server_name extension).

  labnet.py wellknown LOG CONFIG.json
      HTTPS servers for /.well-known/matrix/server. CONFIG is a list of
      {"listen": "ADDR:PORT", "cert": PEM, "key": PEM, "body": STRING}.
      Every request is logged as
          wellknown listen=ADDR:PORT sni=NAME path=PATH status=CODE

Both print "ready" to LOG once every socket is bound.
"""

import asyncio
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def log_line(path, line):
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def split_addr(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def parse_sni(data):
    """The server_name of a TLS ClientHello in data (whole records), or None."""
    try:
        # Reassemble the handshake bytes from the handshake records.
        hs = b""
        pos = 0
        while pos + 5 <= len(data) and data[pos] == 22:
            length = int.from_bytes(data[pos + 3 : pos + 5], "big")
            hs += data[pos + 5 : pos + 5 + length]
            pos += 5 + length
        if not hs or hs[0] != 1:
            return None
        body = hs[4 : 4 + int.from_bytes(hs[1:4], "big")]
        p = 2 + 32  # client_version, random
        p += 1 + body[p]  # session_id
        p += 2 + int.from_bytes(body[p : p + 2], "big")  # cipher_suites
        p += 1 + body[p]  # compression_methods
        end = p + 2 + int.from_bytes(body[p : p + 2], "big")
        p += 2
        while p + 4 <= end:
            ext_type = int.from_bytes(body[p : p + 2], "big")
            ext_len = int.from_bytes(body[p + 2 : p + 4], "big")
            ext = body[p + 4 : p + 4 + ext_len]
            p += 4 + ext_len
            if ext_type == 0:  # server_name
                q = 2
                while q + 3 <= len(ext):
                    name_type = ext[q]
                    name_len = int.from_bytes(ext[q + 1 : q + 3], "big")
                    name = ext[q + 3 : q + 3 + name_len]
                    q += 3 + name_len
                    if name_type == 0:
                        return name.decode("ascii", "replace")
        return None
    except (IndexError, ValueError):
        return None


async def read_client_hello(reader):
    """Read whole TLS records until the ClientHello is complete (bounded)."""
    data = b""
    while len(data) < 65536:
        chunk = await asyncio.wait_for(reader.read(65536), timeout=10)
        if not chunk:
            break
        data += chunk
        # Complete when the handshake length fits in the records read so far.
        hs = b""
        pos = 0
        while pos + 5 <= len(data) and data[pos] == 22:
            length = int.from_bytes(data[pos + 3 : pos + 5], "big")
            if pos + 5 + length > len(data):
                break
            hs += data[pos + 5 : pos + 5 + length]
            pos += 5 + length
        if len(hs) >= 4 and len(hs) >= 4 + int.from_bytes(hs[1:4], "big"):
            break
        if data[:1] != b"\x16":
            break  # not TLS: relay as is
    return data


async def pipe(reader, writer):
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


async def sniproxy(logpath, mappings):
    async def handle(listen, backend, reader, writer):
        peer = writer.get_extra_info("peername")
        try:
            first = await read_client_hello(reader)
        except (asyncio.TimeoutError, ConnectionError, OSError):
            writer.close()
            return
        sni = parse_sni(first)
        log_line(
            logpath,
            "sni listen=%s sni=%s peer=%s:%s" % (listen, sni or "-", peer[0], peer[1]),
        )
        try:
            b_reader, b_writer = await asyncio.open_connection(*split_addr(backend))
        except OSError as e:
            log_line(logpath, "backend-error listen=%s backend=%s error=%s" % (listen, backend, e))
            writer.close()
            return
        b_writer.write(first)
        await b_writer.drain()
        await asyncio.gather(pipe(reader, b_writer), pipe(b_reader, writer))

    servers = []
    for listen, backend in mappings:
        host, port = split_addr(listen)
        servers.append(
            await asyncio.start_server(
                lambda r, w, l=listen, b=backend: handle(l, b, r, w), host, port
            )
        )
    log_line(logpath, "ready")
    await asyncio.gather(*(s.serve_forever() for s in servers))


def wellknown(logpath, config):
    threads = []
    for entry in config:
        listen = entry["listen"]
        body = entry["body"].encode("utf-8")
        seen = {}

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(entry["cert"], entry["key"])

        def sni_cb(sslobj, name, _ctx, seen=seen):
            seen[id(sslobj)] = name

        ctx.sni_callback = sni_cb

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self, listen=listen, body=body, seen=seen):
                sni = seen.get(id(self.connection))
                if self.path == "/.well-known/matrix/server":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    status = 200
                else:
                    self.send_error(404)
                    status = 404
                log_line(
                    logpath,
                    "wellknown listen=%s sni=%s path=%s status=%d"
                    % (listen, sni or "-", self.path, status),
                )

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(split_addr(listen), Handler)
        server.daemon_threads = True
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        t = threading.Thread(target=server.serve_forever, daemon=True)
        t.start()
        threads.append(t)
    log_line(logpath, "ready")
    for t in threads:
        t.join()


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "sniproxy":
        mappings = [tuple(m.split("=", 1)) for m in sys.argv[3:]]
        asyncio.run(sniproxy(sys.argv[2], mappings))
    elif len(sys.argv) == 4 and sys.argv[1] == "wellknown":
        with open(sys.argv[3], encoding="utf-8") as f:
            wellknown(sys.argv[2], json.load(f))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
