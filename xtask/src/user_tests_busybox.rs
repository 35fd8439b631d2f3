//! User-level tests: busybox workloads (shell scripting and applets), each run on Linux 6.12 and on coros with the same initramfs; outputs must match.
//!
//! Every script prints only what any correct kernel prints the same way: no pids,
//! times (beyond the year), inode numbers, block counts or memory sizes. Scripts that
//! need scratch space work under `/tmp` (tmpfs on Linux).

use std::time::Duration;

use crate::user_tests::UserTest;

const TIMEOUT: Duration = Duration::from_secs(90);

/// The tests of this group.
pub const BUSYBOX_TESTS: &[UserTest] = &[
    UserTest {
        name: "bb-shell-functions",
        command: r##"
fact() { if [ "$1" -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }
echo "fact 10 = $(fact 10)"
fib() {
    local n=$1 a b
    if [ "$n" -lt 2 ]; then echo "$n"; return; fi
    a=$(fib $((n - 1))); b=$(fib $((n - 2)))
    echo $((a + b))
}
echo "fib 10 = $(fib 10)"
x=global
f() { local x=local; echo "in f: $x"; g; }
g() { echo "in g: $x"; }
f; echo "after f: $x"
rc() { return "$1"; }
rc 5; echo "rc 5 -> $?"
rc 0 && echo "rc 0 is true"
rc 1 || echo "rc 1 is false"
( set -e; echo "set -e: before"; false; echo "set -e: not reached" ); echo "set -e subshell status $?"
( set -e; false || echo "set -e: || is exempt"; if false; then :; fi; echo "set -e: if is exempt"; ! true; echo "set -e: ! is exempt" )
for w in apple banana cherry 42 "" "x y"; do
    case "$w" in
        a*) echo "[$w] starts with a" ;;
        *an*) echo "[$w] contains an" ;;
        [0-9]*) echo "[$w] is a number" ;;
        "") echo "[] is empty" ;;
        *" "*) echo "[$w] has a space" ;;
        *) echo "[$w] other" ;;
    esac
done
i=0; while [ $i -lt 6 ]; do i=$((i + 1)); [ $i -eq 3 ] && continue; printf '%d ' $i; done; echo
n=10; until [ $n -le 0 ]; do n=$((n - 3)); done; echo "until: $n"
for i in 1 2 3; do for j in a b c; do [ $j = c ] && continue 2; [ $i = 3 ] && break 2; printf '%s%s ' $i $j; done; done; echo
echo $(( (7 + 3) * 4 / 3 % 5 )) $(( 1 << 10 )) $(( 0x1f )) $(( 010 )) $(( -7 / 2 )) $(( -7 % 3 )) $(( 10 > 3 && 2 == 2 )) $(( 5 ? 11 : 12 ))
a=5; : $((a += 3)); echo "a=$a"; echo "post $((a++)) then $a"; echo "pre $((++a))"
echo "big $(( 1 << 62 )) $(( 9223372036854775807 + 1 ))"
s=hello.world.txt
echo "${s%.*} ${s%%.*} ${s#*.} ${s##*.} ${#s} ${s:0:5} ${s:6} ${s/o/0} ${s//o/0}"
echo "${unset_var:-default} [${unset_var}] ${unset2:=assigned} $unset2 ${s:+set}"
( : "${must_be_set:?is required}" ) 2>&1 | sed 's/^[^:]*: //'
name=World
cat <<EOF
Hello, $name!
  $(echo substituted) $((1 + 1)) \$literal
EOF
cat <<'EOF'
literal $name $(not run)
EOF
cat <<-EOF
	tab-stripped $name
	EOF
args() { echo "argc=$#"; while [ $# -gt 0 ]; do echo "  arg [$1]"; shift; done; }
args a "b c" '' d
set -- x y z; echo "$# $2 $*"; shift 2; echo "$# $1"
set -- "a b" c
for v in "$@"; do echo "quoted [$v]"; done
for v in $*; do echo "unquoted [$v]"; done
IFS=:; echo "joined $*"; unset IFS
parse() {
    OPTIND=1
    while getopts "ab:c" opt; do
        case $opt in
            a) echo "flag a" ;;
            b) echo "b=$OPTARG" ;;
            c) echo "flag c" ;;
            *) echo "bad option" ;;
        esac
    done
    shift $((OPTIND - 1))
    echo "rest: $*"
}
parse -a -b val -c file1 file2
parse -ac -bX -- -notopt
parse -x 2>/dev/null
echo "one two three four" | { read -r a b; echo "a=$a b=$b"; }
printf 'l1\nl2\nl3\n' | while read -r line; do echo "got $line"; done
cmd='echo evaluated $((2 * 21))'; eval "$cmd"
printf '%5s|%-5s|%05d|%x|%o|%c|%.2f\n' ab cd 42 255 8 xyz 3.14159
type echo | head -n 1
command -v ls
alias_test() { echo "function wins"; }; alias_test
last() { return 42; }
last
"##,
        exit_status: 42,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "bb-shell-subshells-pipes",
        command: r##"
x=outer; (x=inner; echo "in subshell: $x"); echo "after subshell: $x"
[ "$(echo $$)" = "$$" ] && echo "\$\$ is the same in a command substitution"
[ "$(sh -c 'echo $PPID')" = "$$" ] && echo "a child's PPID is \$\$"
( exit 3 ); echo "subshell exit $?"
v=$(echo one; echo two); echo "$v"
echo "nested: $(echo $(echo $(echo deep)))" `echo backticks`
echo "trailing newlines stripped: [$(printf 'x\n\n\n')]"
seq 1 2000 | awk '$1 % 7 == 0 { print $1 }' | sort -rn | head -n 3
seq 1 2000 | awk '{ s += $1 } END { print "sum", s }'
seq 1 5000 | sort -r | tail -n 2
seq 1 3000 | sed -n '/^2.*9$/p' | wc -l
yes hello | head -n 1000 | uniq -c
(yes | head -n 2; echo "yes was stopped")
s=$(seq 1 20000); echo "substitution length ${#s}"
dd if=/dev/zero bs=4096 count=256 2>/dev/null | wc -c
seq 1 100000 | cat | cat | cat | wc -l
false | true; echo "false|true: $?"
true | false; echo "true|false: $?"
! true; echo "! true: $?"
! false; echo "! false: $?"
sh -c 'exit 4' | sh -c 'exit 9'; echo "last of pipeline: $?"
set -o pipefail
sh -c 'exit 4' | sh -c 'exit 0'; echo "pipefail: $?"
set +o pipefail
{ echo group1; echo group2; } | tr a-z A-Z
cd /tmp || exit 1
mkdir redir && cd redir || exit 1
echo first > f; echo second >> f; cat f
echo overwritten > f; cat f
ls /nonexistent 2>&1 | sed 's/^/err: /'
ls /nonexistent > out 2>&1; echo "ls status $?"; cat out
ls /nonexistent 2>/dev/null; echo "silenced status $?"
{ echo to-stderr >&2; } 2>&1 | sed 's/^/piped: /'
{ echo out; echo err >&2; } > both 2>&1; cat both
{ echo out; echo err >&2; } 2>&1 >/dev/null | sed 's/^/only stderr: /'
tr a-z A-Z < f
exec 3> fd3.txt; echo "via fd3" >&3; echo "more via fd3" >&3; exec 3>&-; cat fd3.txt
exec 4< fd3.txt; read -r line <&4; echo "fd4 line 1: $line"; read -r line <&4; echo "fd4 line 2: $line"; exec 4<&-
exec 5>&1; echo "dup of stdout" >&5; exec 5>&-
(echo nope >&5) 2>/dev/null || echo "fd 5 is closed"
exec 6<> rw.txt; echo "read-write" >&6; exec 6>&-; cat rw.txt
exec 7>&1 1>saved.txt; echo "into the file"; exec 1>&7 7>&-; echo "stdout restored"; cat saved.txt
: > empty; wc -c < empty
set -C; (echo clobber > f) 2>/dev/null || echo "noclobber refused"; set +C; echo clobbered > f; cat f
while read -r a b; do echo "$b $a"; done <<EOF
1 one
2 two
EOF
printf 'c\nb\na\n' > unsorted; sort unsorted > sorted; cat sorted
cat < sorted | (read -r first; echo "first=$first"; cat)
cd / && rm -r /tmp/redir && echo cleaned
"##,
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "bb-shell-jobs-traps",
        command: r##"
sleep 0.3 & p1=$!
(sleep 0.1; exit 5) & p2=$!
wait $p2; echo "wait p2: $?"
wait $p1; echo "wait p1: $?"
sleep 10 & p3=$!
kill -TERM $p3; wait $p3 2>/dev/null; echo "sleep killed by TERM: $?"
sleep 10 & p4=$!
kill -KILL $p4; wait $p4 2>/dev/null; echo "sleep killed by KILL: $?"
sleep 1 & p5=$!
sleep 0.3; kill -INT $p5; wait $p5; echo "background sleep ignores INT: $?"
sh -c 'kill -TERM $$; echo not reached'; echo "sh killed itself: $?"
sh -c 'kill -SEGV $$'; echo "sh got SEGV: $?"
kill -0 $$ && echo "kill -0 self works"
trap 'echo got USR1' USR1; kill -USR1 $$; echo "after USR1"
n=0; trap 'n=$((n + 1))' USR2; kill -USR2 $$; kill -USR2 $$; kill -USR2 $$; echo "USR2 count $n"
trap - USR1 USR2
trap '' HUP; kill -HUP $$; echo "HUP ignored"; trap - HUP
trap 'echo TERM caught' TERM; kill -TERM $$; echo "after TERM"; trap - TERM
sh -c 'trap "echo child ignores INT" INT; kill -INT $$; echo child alive'
sh -c 'trap "" TERM; exec sh -c "kill -TERM \$\$; echo ignored TERM survives exec"'
(trap 'echo subshell exit trap' EXIT; echo "in subshell")
sh -c 'trap "echo exit trap sees \$?" EXIT; exit 6'; echo "status $?"
for i in 1 2 3 4 5; do (sleep 0.$i; echo "job $i done") & done; wait; echo "all jobs done"
for i in 1 2 3; do echo "bg $i" > /tmp/bg$i & done; wait; cat /tmp/bg1 /tmp/bg2 /tmp/bg3; rm /tmp/bg1 /tmp/bg2 /tmp/bg3
sleep 5 & sp=$!
trap 'echo USR1 during wait' USR1
(sleep 0.2; kill -USR1 $$) &
wait $sp; echo "wait interrupted: $?"
kill $sp; wait $sp 2>/dev/null; echo "then killed: $?"
wait; echo "nothing left: $?"
trap - USR1
sh -c 'sleep 0.1 & wait $!; echo inner wait $?'
( sleep 0.1; echo "late writer" ) | cat
trap 'echo main exit trap' EXIT
exit 3
"##,
        exit_status: 3,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "bb-files",
        command: r##"
cd /tmp && mkdir -p w/a/b/c && cd w || exit 1
echo hello > a/f1; printf '%s' 12345 > a/b/f2; : > a/b/c/empty
dd if=/dev/zero of=big bs=1024 count=10 2>/dev/null
echo "--- find"; find . | sort
echo "--- files"; find . -type f | sort
echo "--- dirs"; find . -type d | sort
echo "--- named f*"; find . -name 'f*' | sort
echo "--- bigger than 5k"; find . -size +5k
echo "--- empty"; find . -empty | sort
echo "--- maxdepth"; find . -maxdepth 1 | sort
find a -type f -exec wc -c {} \; | sort
stat -c '%n %s %F %a' a/f1 a/b a/b/f2 a/b/c/empty big
chmod 600 a/f1; stat -c '%a %A' a/f1
chmod u+x,g+r,o+w a/f1; stat -c '%a %A' a/f1
chmod 4755 big; stat -c '%a %A' big; chmod 644 big
umask 027; touch masked; mkdir maskdir; stat -c '%n %a' masked maskdir; umask 022
cp -r a copy; find copy | sort
cmp a/f1 copy/f1 && echo "copy is identical"
cp big big2; cmp big big2 && echo "big copy is identical"
mv copy/f1 copy/moved; ls -1 copy
mv copy renamed; ls -1
echo "--- symlinks"
ln -s a/f1 sym; readlink sym; cat sym; stat -c '%F' sym; stat -L -c '%F' sym
ls -l sym | awk '{ print $1, $(NF-2), $(NF-1), $NF }'
ln -s nowhere dangling; cat dangling 2>&1; test -L dangling && echo "dangling is a link"; test -e dangling || echo "dangling target is missing"
ln -s ../.. a/b/up; ls -1 a/b/up/ | head -n 3
readlink -f a/b/up/a/f1
echo "--- hard links"
ln a/f1 hard; stat -c '%h' a/f1 hard
echo more >> hard; cat a/f1
rm hard; stat -c '%h' a/f1
ln a 2>&1 | head -n 1 >/dev/null; ln a dirlink 2>&1
echo "--- errors"
rmdir a 2>&1
rm nonexistent 2>&1
mkdir a 2>&1
cat a 2>&1
mv a a/b/inside 2>&1
cd nonexistent 2>&1 | sed 's/^[^:]*: [0-9]*: //'
touch a/b/c/empty/x 2>&1
ls -1 /root/nothing 2>&1
echo "--- times"
touch -d '2024-01-02 03:04:05' t; stat -c '%y %Y' t
touch -r t t2; stat -c '%Y' t2
echo "--- listing"
ls -1a a
ls -1 -F a
ls -d a/*
ls -l a/f1 | cut -c 1-10
mkdir -p deep/1/2/3/4/5/6/7/8/9 && find deep | wc -l
rm -rf renamed deep; ls -1
rmdir a/b/c 2>&1; rm a/b/c/empty; rmdir a/b/c && echo "rmdir ok"
rm -rf a; ls -1
echo "--- sizes"
truncate -s 100000 sparse; stat -c '%s' sparse; wc -c < sparse
truncate -s 10 sparse; stat -c '%s' sparse
du -a . | wc -l
df /tmp | awk 'NR > 1 { print $1, $NF }'
awk '$2 == "/tmp" { print $1, $2, $3 }' /proc/mounts
awk '$2 == "/proc" { print $1, $2, $3 }' /proc/mounts
cd / && rm -rf /tmp/w && ls -A /tmp && echo "tmp is empty"
"##,
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "bb-text",
        command: r##"
cd /tmp || exit 1
cat > data <<'EOF'
alice 30 paris
bob 25 london
carol 35 paris
dave 25 berlin
eve 40 london
alice 31 rome
EOF
echo "--- grep"
grep paris data
grep -c london data
grep -v -n a data
grep -E '^(bob|eve) ' data
grep -i ALICE data | wc -l
grep -o '[0-9][0-9]' data | tr '\n' ' '; echo
grep -w 'ali' data; echo "grep -w status $?"
grep -l alice data /etc/passwd
grep -r root /etc | sort
echo "--- sed"
sed 's/a/A/g' data | head -n 2
sed -n '2,4p' data
sed '1d;$d' data
sed -e '/london/s/^/L: /' -e 's/ [0-9]*//' data
sed -n '/carol/,/eve/{=;p}' data
sed 's/\([a-z]*\) \([0-9]*\)/\2 \1/' data | head -n 2
printf 'a\nb\nc\n' | sed -n '$='
cp data data2; sed -i 's/paris/PARIS/' data2; grep -c PARIS data2
echo "--- awk"
awk '{ print $1 }' data | tr '\n' ' '; echo
awk '{ s += $2 } END { print "total", s, "avg", s / NR }' data
awk '$3 == "paris" { printf "%-6s|%4d|\n", $1, $2 }' data
awk '{ n[$3]++ } END { for (c in n) print c, n[c] }' data | sort
awk -F: '{ print $1, $NF }' /etc/passwd
awk 'BEGIN { x = 2 ^ 10; printf "%d %s %.3f %c\n", x, substr("coros kernel", 7), 1 / 3, 65 }'
awk 'BEGIN { s = "a,b,,c"; n = split(s, p, ","); print n, p[4]; print toupper("up"), length("four"), index("hello", "l") }'
awk 'NR % 2 == 0' data
echo "--- sort uniq"
sort data | head -n 3
sort -k2 -n data | awk '{ print $2 }' | tr '\n' ' '; echo
sort -k2,2nr -k1,1 data | head -n 3
sort -u -k3,3 data | awk '{ print $3 }' | tr '\n' ' '; echo
awk '{ print $3 }' data | sort | uniq -c
awk '{ print $3 }' data | sort | uniq -d
awk '{ print $2 }' data | sort -n | uniq -u | tr '\n' ' '; echo
printf '10\n9\n100\n-1\n' | sort -n | tr '\n' ' '; echo
printf 'b\na\nB\nA\n' | sort | tr '\n' ' '; echo
printf 'b\na\nB\nA\n' | sort -f -s | tr '\n' ' '; echo
echo "--- wc cut tr"
wc -l data; wc -w < data; wc -c < data; wc data
cut -d ' ' -f 1,3 data | head -n 2
cut -c 1-3 data | tail -n 1
cut -d: -f1,6 /etc/passwd
echo 'Hello, World' | tr 'a-z' 'A-Z'
echo 'Hello, World' | tr -d 'lo'
echo 'aaabbbccc   dd' | tr -s 'a-z '
echo 'a:b:c' | tr ':' '\n'
echo "--- head tail"
seq 1 100 > nums
head -n 3 nums | tr '\n' ' '; echo
tail -n 3 nums | tr '\n' ' '; echo
tail -n +98 nums | tr '\n' ' '; echo
head -c 5 nums | od -c | head -n 1
tail -c 4 nums | od -An -c
echo "--- od hexdump base64 misc"
printf 'coros\n\001\377' | od -An -tx1
printf 'coros\n' | hexdump -C
printf 'coros kernel' | base64
printf 'Y29yb3Mga2VybmVs' | base64 -d; echo
printf 'abc' | xxd
seq 1 5 | tac | tr '\n' ' '; echo
echo hello | rev
seq 1 6 | paste - - -
nl -b a data | head -n 2
printf 'a b c d e\n' | xargs -n 2 echo
seq 1 4 | xargs -I{} echo "item {}"
expr 6 \* 7; expr length coros; expr substr kernel 2 3
printf 'x\ty\n' | expand -t 4 | od -An -c
echo "$(seq 10 | shuf | sort -n | tr '\n' ' ')"
diff data data2; echo "diff status $?"
rm data data2 nums
"##,
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "bb-archives-hashes",
        command: r##"
cd /tmp && mkdir -p arc && cd arc || exit 1
mkdir -p src/d1/d2 src/empty
echo alpha > src/a.txt
seq 1 1000 > src/d1/nums
head -c 70000 /dev/zero | tr '\0' 'z' > src/d1/d2/zs
ln -s a.txt src/link
chmod 750 src/d1
echo "--- hashes"
printf '' | md5sum
printf 'abc' | md5sum
printf 'abc' | sha256sum
printf 'abc' | sha1sum
printf 'abc' | sha512sum | cut -c 1-32
md5sum src/a.txt src/d1/nums src/d1/d2/zs
sha256sum src/d1/nums > sums; sha256sum -c sums
echo tampered >> src/d1/nums; sha256sum -c sums 2>&1; echo "check status $?"
seq 1 1000 > src/d1/nums
dd if=/dev/zero bs=1k count=64 2>/dev/null | md5sum
dd if=/dev/zero bs=1M count=2 2>/dev/null | sha256sum
seq 1 100000 | md5sum
echo "--- tar"
tar cf t.tar src; tar tf t.tar | sort
mkdir out; tar xf t.tar -C out
(cd src && find . | sort | while read -r f; do [ -f "$f" ] && [ ! -L "$f" ] && md5sum "$f"; done) > before
(cd out/src && find . | sort | while read -r f; do [ -f "$f" ] && [ ! -L "$f" ] && md5sum "$f"; done) > after
cmp before after && echo "extracted files match"
readlink out/src/link; stat -c '%a %F' out/src/d1 out/src/empty out/src/link
tar czf t.tgz src; tar tzf t.tgz | sort | head -n 3
rm -rf out; mkdir out; tar xzf t.tgz -C out && cmp out/src/d1/d2/zs src/d1/d2/zs && echo "tgz round trip ok"
tar cf - src | tar tf - | wc -l
(cd src && tar cf - a.txt d1/nums) | (cd out && mkdir piped && cd piped && tar xf - && md5sum a.txt d1/nums)
echo "--- gzip"
gzip -c src/d1/nums | wc -c
gzip -c src/d1/nums | gunzip | md5sum
gzip -9 -c src/d1/d2/zs | gunzip -c | wc -c
cp src/d1/nums n; gzip n; ls n*; gunzip n.gz; ls n*; md5sum n
gzip -c src/a.txt > a.gz; zcat a.gz; gzip -t a.gz && echo "gzip -t ok"
printf 'not gzip' > bad.gz; gunzip -c bad.gz 2>&1; echo "gunzip status $?"
echo "--- dd"
seq -w 0 99 > s
dd if=s bs=3 skip=10 count=2 2>/dev/null
dd if=s of=part bs=3 skip=98 2>&1 | head -n 2; cat part
printf 'AAAAAAAAAA' > f; printf 'XY' | dd of=f bs=1 seek=3 conv=notrunc 2>/dev/null; cat f; echo
printf 'XY' | dd of=f bs=1 seek=3 2>/dev/null; cat f; echo
printf 'Z' | dd of=h bs=1k seek=4 2>/dev/null; stat -c %s h; od -c h
dd if=/dev/zero of=z bs=512 count=3 2>&1 | head -n 2; stat -c %s z
dd if=s bs=7 count=1 conv=sync 2>/dev/null | od -c
printf 'abcdef' | dd bs=2 conv=swab 2>/dev/null; echo
dd if=s ibs=10 obs=25 count=3 2>&1 | tail -n 3 | head -n 2
echo "--- cpio"
(cd src && find . -name '*.txt' | cpio -o -H newc 2>/dev/null) | cpio -t 2>/dev/null
cd / && rm -rf /tmp/arc && echo cleaned
"##,
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "bb-procs",
        command: r##"
sleep 30 & s1=$!
sleep 30 & s2=$!
sleep 30 & s3=$!
n=0; while [ "$(ps | grep -c '[s]leep 30')" -lt 3 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
ps | grep -c '[s]leep 30'
ps -o pid,ppid,comm | awk -v me=$$ '$2 == me && $3 == "sleep"' | wc -l
ps -o pid,comm | awk -v me=$$ '$1 == me { print $2 }'
pidof sleep | wc -w
kill $s1 $s2; wait $s1 2>/dev/null; echo "s1: $?"; wait $s2 2>/dev/null; echo "s2: $?"
ps | grep -c '[s]leep 30'
kill -9 $s3; wait $s3 2>/dev/null; echo "s3: $?"
ps | grep -c '[s]leep 30'; echo "grep status $?"
kill $s3 2>&1 | sed 's/[0-9][0-9]*/PID/'
echo "--- /proc"
grep -c '^Name:' /proc/self/status
grep '^Name:' /proc/self/status
awk '/^State:/ { print $1, $2 }' /proc/self/status
cut -d ' ' -f 2,3 /proc/self/stat
[ "$(cut -d ' ' -f 1 /proc/self/stat)" -gt 1 ] && echo "stat pid > 1"
[ "$(awk '/^PPid:/ { print $2 }' /proc/self/status)" = "$$" ] && echo "PPid is the shell"
[ "$(sh -c 'cut -d " " -f 4 /proc/$$/stat')" = "$$" ] && echo "stat ppid is the shell"
readlink /proc/self/exe
readlink /proc/self/cwd
(cd /tmp && readlink /proc/self/cwd)
readlink /proc/self/fd/0
ls /proc/self/fd | tr '\n' ' '; echo
tr '\0' ' ' < /proc/self/cmdline; echo
tr '\0' '\n' < /proc/self/environ | sort
ls -d /proc/[0-9]* | wc -l | awk '{ print ($1 >= 2) ? "several processes" : "too few" }'
[ -d /proc/$$ ] && echo "/proc/\$\$ exists"
[ -d /proc/1 ] && echo "/proc/1 exists"
grep -c MemTotal /proc/meminfo
awk '{ print NF }' /proc/uptime
echo "--- ids and system"
id; id -u; id -g; id -un
whoami
uname -s -m
uname -o 2>/dev/null; true
nproc
taskset -p $$ | sed 's/.*: //'
renice -n 5 -p $$ >/dev/null; awk '{ print "nice", $19 }' /proc/$$/stat
echo "--- time"
[ "$(date +%Y)" -ge 2024 ] && echo "year is at least 2024"
date -u -d @0 '+%Y-%m-%d %H:%M:%S'
date -u -d '2024-02-29 12:00:00' +%s
date -u -d @1709208000 +%A
a=$(date +%s); sleep 1.1; b=$(date +%s); [ $((b - a)) -ge 1 ] && [ $((b - a)) -le 3 ] && echo "time advanced by about a second"
sleep 0.1; echo slept
usleep 1000 && echo "usleep ok"
timeout 1 sleep 5; echo "timeout status $?"
timeout 5 true; echo "timeout true status $?"
echo a | xargs /nonexistent 2>&1; echo "xargs status $?"
time -f x /nonexistent 2>&1; echo "time status $?"
time -f x true 2>/dev/null; echo "time status $?"
setsid sh -c '[ "$(cut -d " " -f 6 /proc/$$/stat)" = "$$" ] && echo "setsid makes a session leader"'
env | sort
pwd
"##,
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "bb-devices",
        command: r##"
echo discard > /dev/null; echo "write /dev/null: $?"
cat /dev/null | wc -c
dd if=/dev/null bs=1 count=1 2>&1 | head -n 2
dd if=/dev/zero bs=1000 count=5 2>/dev/null | wc -c
head -c 100000 /dev/zero | tr -d '\0' | wc -c
echo x > /dev/zero; echo "write /dev/zero: $?"
head -c 16 /dev/urandom | wc -c
dd if=/dev/urandom bs=16 count=1 2>/dev/null | wc -c
head -c 8 /dev/random | wc -c
a=$(head -c 16 /dev/urandom | md5sum); b=$(head -c 16 /dev/urandom | md5sum); [ "$a" != "$b" ] && echo "urandom reads differ"
head -c 4096 /dev/urandom | gzip -c | wc -c | awk '{ print ($1 > 4000) ? "urandom is incompressible" : "urandom compresses" }'
head -c 10 /dev/full | wc -c
echo x > /dev/full 2>/dev/null; echo "echo to /dev/full: $?"
cat /etc/passwd 2>&1 > /dev/full | grep -c 'No space left on device'
dd if=/dev/zero of=/dev/full bs=1 count=1 2>&1 | grep -c 'No space left on device'
for d in console tty null zero full random urandom; do
    test -c /dev/$d && echo "/dev/$d is a char device: $(stat -c '%t %T' /dev/$d)"
done
ls -l /dev/null | awk '{ print $1, $5, $6 }'
stat -c '%F %a' /dev/null /dev/zero
test -d /dev && test -d /proc && test -d /sys && echo "dev proc sys are directories"
echo "--- mknod and fifo"
mknod /tmp/mynull c 1 3 && stat -c '%F %t %T' /tmp/mynull
echo hi > /tmp/mynull && wc -c < /tmp/mynull
mknod /tmp/myzero c 1 5 && head -c 3 /tmp/myzero | od -An -tx1
rm /tmp/mynull /tmp/myzero
mkfifo /tmp/fifo && stat -c '%F' /tmp/fifo
(echo "through the fifo" > /tmp/fifo) & cat /tmp/fifo; wait
(seq 1 20000 > /tmp/fifo) & wc -l < /tmp/fifo; wait
rm /tmp/fifo
echo "--- ttys"
test -t 0 && echo "stdin is a tty" || echo "stdin is not a tty"
tty >/dev/null; echo "tty status $?"
echo "--- sys"
test -d /sys/kernel && echo "/sys/kernel exists"
cat /proc/sys/kernel/ostype
"##,
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "bb-shell-scripts",
        command: r##"
mkdir -p /tmp/bin && cd /tmp/bin || exit 1
cat > hello.sh <<'EOF'
#!/bin/sh
echo "script $0 got $# args: $*"
exit 7
EOF
chmod +x hello.sh
./hello.sh a 'b c'; echo "status $?"
PATH=/tmp/bin:$PATH hello.sh from-path | sed 's|/tmp/bin/||'
sh hello.sh via-sh; echo "status $?"
printf '#!/bin/awk -f\nBEGIN { print "awk interpreter", ARGV[1] }\n' > a.awk; chmod 755 a.awk; ./a.awk arg1
printf '#!/nonexistent/interp\necho hi\n' > badinterp; chmod +x badinterp; ./badinterp 2>/dev/null; echo "bad interpreter status $?"
printf 'echo no shebang, run by the shell: $0\n' > noshebang; chmod +x noshebang; ./noshebang | sed 's|/tmp/bin/||'
printf 'echo not executable\n' > noexec; ./noexec 2>/dev/null; echo "not executable status $?"
./nosuchfile 2>/dev/null; echo "not found status $?"
nosuchcommand 2>/dev/null; echo "command not found status $?"
mkdir adir; ./adir 2>/dev/null; echo "directory status $?"
printf 'sourced_var=42\nsourced_fn() { echo "sourced fn $1"; }\n' > lib.sh
. ./lib.sh; echo "sourced_var=$sourced_var"; sourced_fn x
sh -c 'echo "sh -c: $0 $1 $2"' zero one two
sh -c 'exec echo "exec replaced the shell"; echo not reached'
(exec sh -c 'exit 12'); echo "exec in subshell: $?"
sh -s a b <<'EOF'
echo "sh -s args: $1 $2"
EOF
echo 'echo from stdin script' | sh
cd /tmp && mkdir -p real/sub && ln -s real/sub linkdir && cd linkdir && pwd && pwd -P && cd .. && pwd
cd /tmp/real && cd sub && cd - >/dev/null && pwd
cd /tmp && rm -r real linkdir
touch -d '2024-01-01 00:00:00' old; touch -d '2024-06-01 00:00:00' new
[ new -nt old ] && echo "new is newer"; [ old -ot new ] && echo "old is older"
[ -s old ] || echo "old is empty"; echo x > old; [ -s old ] && echo "old is non-empty"
[ -r old ] && [ -w old ] && [ ! -x old ] && echo "rw but not x"
[ -e /proc/self ] && [ -h /proc/self ] && echo "/proc/self is a symlink"
f=$(mktemp /tmp/tmp.XXXXXX); [ -f "$f" ] && echo "mktemp made a file: $(stat -c %a "$f")"; rm "$f"
d=$(mktemp -d); [ -d "$d" ] && echo "mktemp -d made a directory: $(stat -c %a "$d")"; rmdir "$d"
ulimit -n; ulimit -n 64; ulimit -n; (ulimit -n 32; ulimit -n); ulimit -n
ulimit -s >/dev/null && echo "ulimit -s works"
ulimit -c
umask; umask 077; umask; umask -S; umask 022
exec 3>/tmp/fd3; ls /proc/$$/fd | grep -c '^3$'; exec 3>&-
set -u; (echo "$undefined_variable") 2>/dev/null || echo "set -u stops unset expansion"; set +u
( set -x; : traced-colon ) 2>&1
which sh ls
command -V cd | head -n 1
v=$(printf 'a\0b' | wc -c); echo "NUL bytes through a pipe: $v"
readonly ro=1; (ro=2) 2>/dev/null || echo "readonly enforced"
export EXPORTED=yes; sh -c 'echo "child sees EXPORTED=$EXPORTED"'
NOTEXPORTED=no; sh -c 'echo "child sees NOTEXPORTED=[$NOTEXPORTED]"'
ONESHOT=once sh -c 'echo "child sees ONESHOT=$ONESHOT"'; echo "parent ONESHOT=[$ONESHOT]"
env -i FOO=bar sh -c 'env | sort'
rm -rf /tmp/bin /tmp/old /tmp/new /tmp/fd3
"##,
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "bb-workload",
        command: r##"
cd /tmp || exit 1
i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i + 1)); done; echo "300 fork+exec done"
i=0; while [ $i -lt 300 ]; do v=$(echo $i); i=$((i + 1)); done; echo "300 command substitutions, last $v"
for i in $(seq 1 50); do (exit $((i % 3))) & done; wait; echo "50 background subshells reaped"
seq 1 200000 > big.txt; wc -l < big.txt; md5sum < big.txt
sort -r big.txt | sort -n | md5sum
awk '{ s += $1 } END { printf "%.0f\n", s }' big.txt
grep -c '7$' big.txt
sed -n '$p' big.txt
tail -n 1 big.txt; head -n 1 big.txt
cut -c 1-2 big.txt | sort | uniq -c | sort -k1,1nr -k2 | head -n 3
gzip -c big.txt | gunzip -c | cmp - big.txt && echo "gzip round trip of 1.2 MB"
tar cf - big.txt | tar xOf - | md5sum
cp big.txt big2.txt; cat big.txt big2.txt | wc -c; rm big2.txt
yes 0123456789abcdef | head -c 8388608 | md5sum
dd if=/dev/zero bs=64k count=128 2>/dev/null | tr '\0' 'a' | wc -c
awk 'BEGIN { for (i = 0; i < 100000; i++) a[i] = i * 2; s = 0; for (i in a) s += a[i]; printf "awk array sum %.0f\n", s }'
x=""; i=0; while [ $i -lt 2000 ]; do x="$x."; i=$((i + 1)); done; echo "string grew to ${#x}"
seq 1 5000 | xargs -n 100 echo | wc -l
find / -xdev -name busybox -type f 2>/dev/null
p=""; for i in 1 2 3 4 5 6 7 8; do p="$p | cat"; done; eval "seq 1 1000 $p | wc -l"
rm big.txt
"##,
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        name: "bb-mounts",
        command: r##"
mkdir -p /mnt/a /mnt/b
mount -t tmpfs -o size=1m,mode=0750 scratch /mnt/a && echo "mounted"
awk '$2 == "/mnt/a" { print $1, $2, $3 }' /proc/mounts
stat -c '%a %F' /mnt/a
df /mnt/a | awk 'NR > 1 { print $1, $2, $NF }'
echo hello > /mnt/a/f && cat /mnt/a/f
mkdir /mnt/a/d && touch /mnt/a/d/x && ls -1 /mnt/a
dd if=/dev/zero of=/mnt/a/fill bs=4k count=1000 2>&1 | grep -c 'No space left on device'
rm /mnt/a/fill
mv /mnt/a/f /tmp/moved 2>/dev/null && cat /tmp/moved && rm /tmp/moved
ln /mnt/a/d/x /tmp/crosslink 2>&1 | sed 's/^ln: //'
cd /mnt/a/d && umount /mnt/a 2>&1 | sed 's/^umount: //'
cd / && umount /mnt/a && echo "unmounted"
ls -A /mnt/a | wc -l
grep -c ' /mnt/a ' /proc/mounts
mount -t tmpfs tmpfs /mnt/b && touch /mnt/b/file
mount -o remount,ro /mnt/b && echo "remounted read-only"
touch /mnt/b/new 2>&1 | sed 's/^touch: //'
awk '$2 == "/mnt/b" { split($4, o, ","); print $3, o[1] }' /proc/mounts
mount -o remount,rw /mnt/b && touch /mnt/b/new && ls -1 /mnt/b
umount /mnt/b
mkdir -p /mnt/src /mnt/dst && echo bound > /mnt/src/file
mount --bind /mnt/src /mnt/dst && cat /mnt/dst/file
echo "via bind" > /mnt/dst/other && cat /mnt/src/other
umount /mnt/dst && ls -A /mnt/dst | wc -l
rm -r /mnt/src
umount /mnt/nothing 2>&1 | sed 's/^umount: //'
mount -t nosuchfs none /mnt/b 2>&1 | sed 's/^mount: //'
"##,
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
    UserTest {
        // Regression: tmpfs data used to live in the kernel heap, which never shrinks,
        // so memory of deleted files was lost to user processes. The checks are relative
        // (MemFree before, during, after), so they hold on any kernel that frees unlinked data.
        name: "bb-tmpfs-memory",
        command: r##"
before=$(awk '/^MemFree/ { print $2 }' /proc/meminfo)
dd if=/dev/zero of=/tmp/big bs=1M count=64 2>/dev/null && echo "wrote 64 MiB"
during=$(awk '/^MemFree/ { print $2 }' /proc/meminfo)
[ $((before - during)) -gt 60000 ] && echo "the file uses memory"
rm /tmp/big
after=$(awk '/^MemFree/ { print $2 }' /proc/meminfo)
# Linux returns most of it at once (some stays in per-CPU lists and slab): ask for half.
[ $((after - during)) -gt 32000 ] && echo "deleting it gives the memory back"
"##,
        exit_status: 0,
        timeout: TIMEOUT,
        known_gaps: &[],
        gap_reason: "",
        harts: 0,
    },
];
