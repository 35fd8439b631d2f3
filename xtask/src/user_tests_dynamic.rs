//! User-level tests of dynamically linked Debian programs: the kernel loads the program
//! and glibc's loader (`PT_INTERP` = `/lib/ld-linux-riscv64-lp64d.so.1`), which maps
//! the shared libraries from the initramfs' tmpfs. dash, coreutils, lua5.4 and sqlite3
//! are Debian's own riscv64 binaries ([`crate::initramfs::DEBIAN_FILES`]); their output
//! must match Linux 6.12's byte for byte.

use std::time::Duration;

use crate::user_tests::UserTest;

const TIMEOUT: Duration = Duration::from_secs(120);

/// The tests of this group.
pub const DYNAMIC_TESTS: &[UserTest] = &[
    UserTest {
        name: "dyn-dash",
        command: "/usr/bin/dash -c 'echo hello from dash; x=3; y=$((x * 7)); echo \"$y\"; for i in 1 2 3; do printf \"%s-\" $i; done; echo; \
                  f() { echo \"f got $# args: $*\"; return 4; }; f a b c; echo \"status $?\"; \
                  case foo.txt in *.txt) echo text;; *) echo other;; esac; \
                  /usr/bin/dash -c \"exit 5\"; echo \"child $?\"; \
                  echo piped | /usr/bin/cat; \
                  v=$(/usr/bin/seq 3 | /usr/bin/wc -l); echo \"lines $v\"'",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "dyn-coreutils",
        command: "mkdir -p /tmp/tree/sub && cd /tmp/tree\n\
                  printf 'banana\\napple\\ncherry\\napple\\n' > fruit.txt\n\
                  printf 'x' > sub/one && printf 'hello world\\n' > sub/two\n\
                  /usr/bin/touch -d '2024-02-03 04:05:06' fruit.txt sub/one sub/two sub .\n\
                  TZ=UTC /usr/bin/ls -l --time-style=long-iso fruit.txt sub\n\
                  /usr/bin/ls -1 -R .\n\
                  /usr/bin/sort fruit.txt\n\
                  /usr/bin/sort -u -r fruit.txt\n\
                  /usr/bin/sha256sum fruit.txt sub/two\n\
                  /usr/bin/cat fruit.txt sub/two\n\
                  /usr/bin/wc fruit.txt sub/two\n\
                  /usr/bin/seq 1 3 20 | /usr/bin/tr '\\n' ' '; echo\n\
                  /usr/bin/seq -w 8 11\n\
                  /usr/bin/date -d @0 -u\n\
                  /usr/bin/date -u -d @1700000000 '+%Y-%m-%d %H:%M:%S %A'\n\
                  /usr/bin/head -c 5 sub/two; echo\n\
                  /usr/bin/env -i A=1 /usr/bin/env\n\
                  /usr/bin/cat /nonexistent; echo \"cat status $?\"",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "dyn-lua",
        command: "cat > /tmp/t.lua <<'LUA'\n\
local s = 'Hello, Lua'\n\
print(s:upper(), #s, s:sub(1, 5), s:rep(2, '|'))\n\
print(string.format('%5.2f %d %s %x', math.pi, 42, 'str', 255))\n\
for word in ('one two three'):gmatch('%a+') do io.write(word, ';') end print()\n\
print((s:gsub('l', 'L')))\n\
local t = {}\n\
for i = 1, 10 do t[i] = i * i end\n\
print(#t, table.concat(t, ','))\n\
table.sort(t, function(a, b) return a > b end)\n\
print(t[1], t[10])\n\
local m = {b = 2, a = 1, c = 3}\n\
local keys = {}\n\
for k in pairs(m) do keys[#keys + 1] = k end\n\
table.sort(keys)\n\
print(table.concat(keys, ' '))\n\
local co = coroutine.create(function(a, b)\n\
  local c = coroutine.yield(a + b)\n\
  local d, e = coroutine.yield(c * 2)\n\
  return d + e\n\
end)\n\
print(coroutine.resume(co, 1, 2))\n\
print(coroutine.resume(co, 10))\n\
print(coroutine.resume(co, 3, 4))\n\
print(coroutine.status(co))\n\
local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)\n\
print(gen(), gen(), gen())\n\
local f = assert(io.open('/tmp/lua-out.txt', 'w'))\n\
for i = 1, 100 do f:write(i, '\\n') end\n\
f:close()\n\
local sum, n = 0, 0\n\
for line in io.lines('/tmp/lua-out.txt') do sum = sum + tonumber(line); n = n + 1 end\n\
print('read back', n, sum)\n\
local now = os.time()\n\
print('os.time sane', type(now) == 'number' and now > 1600000000)\n\
print(os.time({year = 2000, month = 1, day = 1, hour = 0}))\n\
print(os.date('!%Y-%m-%d %H:%M:%S', 86400 * 365))\n\
print(pcall(error, 'boom'))\n\
print(select('#', 1, 2, 3), math.max(3, 9, 4), math.floor(-3.5), 7 // 2, 7 % 3, 2^10)\n\
local ok, err = pcall(function() local x = nil; return x.y end)\n\
print(ok, (err:gsub('^.-:%d+: ', '')))\n\
LUA\n\
TZ=UTC /usr/bin/lua5.4 /tmp/t.lua",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "dyn-sqlite",
        command: "cat > /tmp/t.sql <<'SQL'\n\
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, value REAL);\n\
BEGIN;\n\
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)\n\
INSERT INTO items (name, grp, value) SELECT 'item' || i, i % 7, i * 1.5 FROM n;\n\
COMMIT;\n\
SELECT count(*), sum(value), min(name), max(name) FROM items;\n\
SELECT grp, count(*), round(avg(value), 2) FROM items GROUP BY grp ORDER BY grp;\n\
CREATE INDEX items_grp ON items (grp, value);\n\
EXPLAIN QUERY PLAN SELECT * FROM items WHERE grp = 3 AND value > 100;\n\
SELECT id, name FROM items WHERE grp = 3 AND value > 1480 ORDER BY value;\n\
UPDATE items SET value = value * 2 WHERE grp = 0;\n\
DELETE FROM items WHERE id > 990;\n\
SELECT count(*), total(value) FROM items;\n\
SELECT group_concat(name, ',') FROM (SELECT name FROM items ORDER BY id LIMIT 5);\n\
SELECT upper('abc'), length('hello'), substr('sqlite', 2, 3), printf('%05d', 42);\n\
PRAGMA integrity_check;\n\
SQL\n\
/usr/bin/sqlite3 /tmp/t.db < /tmp/t.sql\n\
/usr/bin/sqlite3 /tmp/t.db 'SELECT count(*) FROM items;'",
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
];
