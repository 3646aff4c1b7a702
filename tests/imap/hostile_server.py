"""A scripted IMAP server on loopback that misbehaves on purpose.

It speaks just enough IMAP4rev1 (with MOVE) for dmarc-ingest to log in,
select INBOX, search, fetch sizes and bodies and move messages, in clear
text (tls = none is allowed to loopback).  A `hook` named after the
misbehaviour replaces one answer: a flood of untagged lines, a drip of
one byte a second, a giant line or literal, a body larger than its
announced size.  What the client did (connections, moves) is recorded
for the test to assert on.
"""
import socket
import threading
import time

CHUNK = b"a" * 65536


def parse_set(s):
    out = []
    for part in s.split(","):
        if ":" in part:
            a, b = part.split(":")
            b = 2 ** 32 - 1 if b == "*" else int(b)
            out.extend(range(int(a), b + 1))
        else:
            out.append(int(part))
    return out


def unquote(s):
    s = s.strip()
    return s[1:-1] if len(s) >= 2 and s[0] == '"' and s[-1] == '"' else s


class HostileServer:
    """messages: {uid: bytes}.  sizes: {uid: announced RFC822.SIZE}
    (default: the real size).  misbehave: the name of a method below, or
    None for a well-behaved server."""

    def __init__(self, messages, misbehave=None, sizes=None):
        self.messages = dict(messages)
        self.sizes = {u: len(m) for u, m in self.messages.items()}
        self.sizes.update(sizes or {})
        self.misbehave = misbehave
        self.moved = {}  # folder -> [uid]
        self.connections = 0
        self.sent = 0  # bytes of misbehaviour sent
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def close(self):
        self.closed = True
        try:  # wakes the accept() (close alone does not, on Linux)
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._session, args=(c,),
                             daemon=True).start()

    # -- misbehaviours: each sends until the client goes away ---------------

    def _stream(self, c, head, chunk=CHUNK, total=300 << 20, pause=0.0):
        c.sendall(head)
        left = total
        while left > 0 and not self.closed:
            piece = chunk[:left]
            c.sendall(piece)
            self.sent += len(piece)
            left -= len(piece)
            if pause:
                time.sleep(pause)

    def flood(self, c, tag, cmd):
        if cmd != "CAPABILITY":
            return False
        self._stream(c, b"", chunk=b"* OK flood\r\n" * 5000, total=10 << 30)
        return True

    def drip(self, c, tag, cmd):
        if not cmd.startswith("SELECT"):
            return False
        self._stream(c, b"", chunk=b"*", total=3600, pause=1.0)
        return True

    def giant_greeting(self, c):
        self._stream(c, b"* OK ")

    def giant_select_line(self, c, tag, cmd):
        if not cmd.startswith("SELECT"):
            return False
        self._stream(c, b"* 1 EXISTS\r\n* OK [ALERT] ")
        return True

    def giant_list_literal(self, c, tag, cmd):
        if not cmd.startswith("LIST"):
            return False
        self._stream(c, b'* LIST () "/" {314572800}\r\n')
        return True

    def padded_list_literal(self, c, tag, cmd):
        """A literal's size behind 40 zeros: longer than what the guard
        keeps of a line, and still a size libetpan reads and allocates."""
        if not cmd.startswith("LIST"):
            return False
        self._stream(c, b'* LIST () "/" {%s314572800}\r\n' % (b"0" * 40))
        return True

    def blank_after_list_literal(self, c, tag, cmd):
        """A literal whose "}" is followed by a blank before CRLF: libetpan
        takes it for a literal all the same (its CRLF skips blanks)."""
        if not cmd.startswith("LIST"):
            return False
        self._stream(c, b'* LIST () "/" {314572800} \r\n')
        return True

    def giant_size_literal(self, c, tag, cmd):
        if not (cmd.startswith("UID FETCH") and "RFC822.SIZE" in cmd):
            return False
        uid = parse_set(cmd.split()[2])[0]
        self._stream(c, b"* 1 FETCH (UID %d RFC822.SIZE {314572800}\r\n"
                     % uid)
        return True

    def refuse_login(self, c, tag, cmd):
        if not cmd.upper().startswith("LOGIN"):
            return False
        c.sendall(tag + b" NO [AUTHENTICATIONFAILED] Authentication "
                  b"failed.\r\n")
        return True

    def no_capability_data(self, c, tag, cmd):
        """OK to CAPABILITY without saying any (libetpan 1.9.4 crashed on
        it: found by fuzz_imap)."""
        if cmd != "CAPABILITY":
            return False
        c.sendall(tag + b" OK no capabilities to speak of\r\n")
        return True

    def empty_capability_list(self, c, tag, cmd):
        """A CAPABILITY line that lists nothing (libetpan 1.9.4 keeps it as
        no list at all and read through NULL: found by fuzz_imap)."""
        if cmd != "CAPABILITY":
            return False
        c.sendall(b"* CAPABILITY\r\n" + tag + b" OK done\r\n")
        return True

    def body_larger_than_announced(self, c, tag, cmd):
        """The body of the message announced smaller than it is comes as
        a 200 MB literal; the others are sent as they are."""
        if not (cmd.startswith("UID FETCH") and "BODY" in cmd):
            return False
        for seq, uid in enumerate(parse_set(cmd.split()[2]), 1):
            if uid not in self.messages:
                continue
            body = self.messages[uid]
            if self.sizes[uid] < len(body):
                self._stream(c, b"* %d FETCH (UID %d BODY[] {%d}\r\n"
                             % (seq, uid, 200 << 20), total=200 << 20)
                return True
            c.sendall(b"* %d FETCH (UID %d BODY[] {%d}\r\n"
                      % (seq, uid, len(body)) + body + b")\r\n")
        c.sendall(tag + b" OK FETCH done\r\n")
        return True

    # -- the protocol ---------------------------------------------------------

    def _session(self, c):
        try:
            if self.misbehave == "giant_greeting":
                self.giant_greeting(c)
                return
            if self.misbehave == "badcharset_greeting":
                # libetpan 1.9.4 read through NULL parsing this list
                # (SIGSEGV): found by fuzz_imap
                c.sendall(b"* OK [BADCHARSET (UTF-8 US-ASCII)] ready\r\n")
            else:
                c.sendall(b"* OK hostile IMAP server ready\r\n")
            f = c.makefile("rb")
            while not self.closed:
                line = f.readline()
                if not line:
                    return
                tag, _, cmd = line.rstrip(b"\r\n").partition(b" ")
                cmd = cmd.decode("utf-8", "replace")
                hook = getattr(self, self.misbehave or "", None)
                if hook is not None and hook(c, tag, cmd):
                    continue
                if not self._answer(c, tag, cmd):
                    return
        except OSError:
            pass
        finally:
            c.close()

    def _answer(self, c, tag, cmd):
        word = cmd.split(" ")[0].upper()
        out = b""
        if word == "LOGIN":
            out = tag + b" OK LOGIN done\r\n"
        elif word == "CAPABILITY":
            out = b"* CAPABILITY IMAP4rev1 MOVE\r\n" + tag + b" OK done\r\n"
        elif word == "LIST":
            name = unquote(cmd.split(" ", 2)[2])
            if name:
                out = b'* LIST () "/" "%s"\r\n' % name.encode()
            else:
                out = b'* LIST (\\Noselect) "/" ""\r\n'
            out += tag + b" OK LIST done\r\n"
        elif word in ("SELECT", "EXAMINE"):
            out = (b"* FLAGS (\\Seen \\Deleted)\r\n* %d EXISTS\r\n"
                   b"* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT %d] n\r\n"
                   % (len(self.messages), max(self.messages or [0]) + 1) +
                   tag + b" OK [READ-WRITE] SELECT done\r\n")
        elif word == "UID":
            out = self._uid(tag, cmd)
        elif word == "NOOP":
            out = tag + b" OK NOOP done\r\n"
        elif word == "LOGOUT":
            c.sendall(b"* BYE bye\r\n" + tag + b" OK LOGOUT done\r\n")
            return False
        else:
            out = tag + b" BAD unknown command\r\n"
        c.sendall(out)
        return True

    def _uid(self, tag, cmd):
        parts = cmd.split(" ")
        sub = parts[1].upper()
        if sub == "SEARCH":
            return (b"* SEARCH " +
                    b" ".join(b"%d" % u for u in sorted(self.messages)) +
                    b"\r\n" + tag + b" OK SEARCH done\r\n")
        if sub == "FETCH":
            uids = [u for u in parse_set(parts[2]) if u in self.messages]
            out = b""
            for seq, uid in enumerate(uids, 1):
                if "BODY" in cmd:
                    body = self.messages[uid]
                    out += (b"* %d FETCH (UID %d BODY[] {%d}\r\n"
                            % (seq, uid, len(body)) + body + b")\r\n")
                else:
                    out += (b"* %d FETCH (UID %d RFC822.SIZE %d)\r\n"
                            % (seq, uid, self.sizes[uid]))
            return out + tag + b" OK FETCH done\r\n"
        if sub in ("MOVE", "COPY"):
            folder = unquote(" ".join(parts[3:]))
            with self.lock:
                self.moved.setdefault(folder, []).extend(
                    parse_set(parts[2]))
            return tag + b" OK MOVE done\r\n"
        if sub == "STORE":
            return tag + b" OK STORE done\r\n"
        return tag + b" BAD unknown UID command\r\n"

