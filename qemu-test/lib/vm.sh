# SPDX-License-Identifier: GPL-2.0
#
# Boot the dinofs test VM. Sourced by qemu-test/check.sh; not executed.
#
# The VM runner is plain QEMU, virtme-style: the host's root filesystem is
# exported read-only over virtio-9p and becomes the guest's root, so the guest
# runs the host's bash, coreutils, util-linux, e2fsprogs, xfsprogs, fio,
# stress-ng, the project's own tools and any xfstests checkout, with no image
# to build. PID 1 is qemu-test/guest/init. A second, writable 9p share
# ("dinofs-results") carries the run's settings in and the results out.
#
#   vm_boot KDIR RESULTS MODE TIMEOUT
#
# Two sparse 2 GiB scratch disks (virtio, /dev/vda and /dev/vdb in the guest)
# are created in a temporary directory and removed afterwards.

# Pick the accelerator: KVM only when a real KVM module is loaded (on these
# machines /dev/kvm exists but is kvm_pvm, which cannot run guests).
vm_accel() {
	if [ -n "${DINOFS_ACCEL:-}" ]; then
		echo "$DINOFS_ACCEL"
	elif [ -w /dev/kvm ] && grep -qsE "^kvm_(intel|amd) " /proc/modules; then
		echo kvm
	else
		echo tcg
	fi
}

vm_boot() {
	local kdir=$1 results=$2 mode=$3 timeout=$4
	local accel cpu disks rc
	accel=$(vm_accel)
	disks=$(mktemp -d "${TMPDIR:-/tmp}/dinofs-vm.XXXXXX")
	truncate -s "${DINOFS_DISK_SIZE:-2G}" "$disks/vda.img" "$disks/vdb.img"
	case $accel in
	kvm) cpu=host ;;
	*) cpu=max ;;
	esac
	local cmdline="console=ttyS0 loglevel=5 log_buf_len=8M panic=-1 oops=panic"
	cmdline+=" root=/dev/root rootfstype=9p ro"
	cmdline+=" rootflags=trans=virtio,version=9p2000.L,msize=262144,access=any"
	cmdline+=" init=$DINOFS_TOP/qemu-test/guest/init"
	cmdline+=" hung_task_panic=0 softlockup_panic=0 ${DINOFS_KERNEL_CMDLINE:-}"
	local qemu=(qemu-system-x86_64 -accel "$accel" -cpu "$cpu"
		-smp "${DINOFS_VM_CPUS:-4}" -m "${DINOFS_VM_MEM:-2G}"
		-kernel "$kdir/arch/x86/boot/bzImage" -append "$cmdline"
		-display none -no-reboot
		-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap
		-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root
		-fsdev "local,id=results,path=$results,security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=results,mount_tag=dinofs-results
		-drive "file=$disks/vda.img,if=virtio,format=raw,cache=unsafe"
		-drive "file=$disks/vdb.img,if=virtio,format=raw,cache=unsafe"
		-device virtio-rng-pci)
	phase "vm: booting ($accel, ${DINOFS_VM_CPUS:-4} vCPUs, ${DINOFS_VM_MEM:-2G}, mode $mode, timeout ${timeout}s)"
	if [ "$mode" = shell ]; then
		"${qemu[@]}" -serial mon:stdio
		rc=$?
	else
		# The whole-VM timeout: a hung guest can never stall CI.
		timeout -k 10 "$timeout" "${qemu[@]}" -serial stdio -monitor none </dev/null |
			tee "$results/console.log"
		rc=${PIPESTATUS[0]}
	fi
	rm -rf "$disks"
	[ "$rc" != 124 ] || phase "vm: whole-VM timeout (${timeout}s) expired; killed"
	return "$rc"
}
