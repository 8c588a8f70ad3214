#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tier: check
# timeout: 400
#
# Every namespace and attribute operation dinofs implements, each checked
# by its result: mknod (fifo, socket, char and block devices), chmod, chown,
# utimes, truncate down and up, O_TMPFILE (+ linkat), rename over a file and
# a directory, RENAME_NOREPLACE, rmdir of a non-empty directory, 255-byte
# names, mmap write, sendfile (splice), fsync, and POSIX unlink semantics:
# an open-unlinked file keeps its data until the last close, then its space
# comes back exactly.
. "$DINOFS_TOP/qemu-test/guest/lib.sh"

fresh_fs 65536
cd /mnt/d
free0=$(stat -f -c %f .)

# Special files.
mknod fifo p
mknod null c 1 3
mknod loop b 7 0
assert_eq "$(stat -c %F fifo)" fifo "fifo type"
assert_eq "$(stat -c '%F %t,%T' null)" "character special file 1,3" "char device"
assert_eq "$(stat -c '%F %t,%T' loop)" "block special file 7,0" "block device"
python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.bind("sock")'
assert_eq "$(stat -c %F sock)" socket "socket"

# Attributes.
echo data >f
chmod 640 f
chown 1234:5678 f
touch -m -d '2001-02-03 04:05:06.789' f
assert_eq "$(stat -c '%a %u %g' f)" "640 1234 5678" "mode and owner"
assert_eq "$(stat -c %y f)" "2001-02-03 04:05:06.789000000 +0000" "mtime with nanoseconds"

# Truncate down and up; the tail reads back as zeroes.
head -c 100000 /dev/urandom >t
truncate -s 5000 t
assert_eq "$(stat -c %s t)" 5000 "size after truncate down"
truncate -s 200000 t
assert_eq "$(stat -c %s t)" 200000 "size after truncate up"
assert_eq "$(tail -c 195000 t | tr -d '\0' | wc -c)" 0 "zeroes past the old end"

# Names: 255 bytes is fine, 256 is ENAMETOOLONG.
long=$(printf 'n%.0s' $(seq 255))
echo x >"$long"
assert_eq "$(cat "$long")" x "255-byte name"
assert_fails "256-byte name" touch "${long}n"

# Rename over a file, over an empty directory, NOREPLACE, non-empty rmdir.
echo one >r1; echo two >r2
mv r1 r2
assert_eq "$(cat r2)" one "rename replaced target"
[ ! -e r1 ] || fail "rename left the source"
mkdir -p da/sub db
mv da/sub db/moved
assert_eq "$(stat -c %h da) $(stat -c %h db)" "2 3" "link counts after moving a directory"
assert_eq "$(cd db/moved && cd .. && pwd)" /mnt/d/db ".. of a moved directory"
echo keep >k1; echo other >k2
mv -n k1 k2 || true
assert_eq "$(cat k2)" other "RENAME_NOREPLACE kept the target"
assert_fails "rmdir non-empty" rmdir db
mkdir e1 e2; touch e1/x
mv -T e2 e1 2>/dev/null && fail "rename over a non-empty directory succeeded"
rm e1/x; mv -T e2 e1
[ -d e1 ] && [ ! -e e2 ] || fail "rename over an empty directory"

# O_TMPFILE, then linkat() it into the namespace.
python3 - <<'PY'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, AT_SYMLINK_FOLLOW = -100, 0x400
fd = os.open(".", os.O_TMPFILE | os.O_RDWR, 0o600)
os.write(fd, b"tmpfile data")
if libc.linkat(AT_FDCWD, f"/proc/self/fd/{fd}".encode(), AT_FDCWD, b"from-tmpfile", AT_SYMLINK_FOLLOW):
    raise OSError(ctypes.get_errno(), "linkat")
os.close(fd)
fd = os.open(".", os.O_TMPFILE | os.O_RDWR, 0o600)   # never linked: freed at close
os.write(fd, b"x" * 100000)
os.close(fd)
PY
assert_eq "$(cat from-tmpfile)" "tmpfile data" "linked O_TMPFILE"

# mmap write, sendfile (splice_read), fsync.
python3 - <<'PY'
import mmap, os
with open("m", "wb") as f:
    f.truncate(8192)
with open("m", "r+b") as f:
    mm = mmap.mmap(f.fileno(), 8192)
    mm[4096:4101] = b"mmap!"
    mm.flush()
    mm.close()
src = os.open("m", os.O_RDONLY)
dst = os.open("copy", os.O_WRONLY | os.O_CREAT, 0o644)
assert os.sendfile(dst, src, 0, 8192) == 8192
os.fsync(dst)
PY
assert_eq "$(dd if=copy bs=1 skip=4096 count=5 status=none)" "mmap!" "mmap write seen through sendfile copy"

# An open-unlinked file keeps its data until the last close.
head -c 1000000 /dev/urandom >ou
sum=$(md5sum <ou)
exec 7<ou
rm ou
[ ! -e ou ] || fail "unlinked name still there"
assert_eq "$(md5sum <&7)" "$sum" "data readable through the open fd"
exec 7<&-

# Everything removed: space back exactly.
cd /
rm -rf /mnt/d/*
sync
assert_eq "$(stat -f -c %f /mnt/d)" "$free0" "free blocks back to baseline"
finish_fs
