/*
 * no-mroute COMMAND [ARGUMENT...]: runs COMMAND as on a kernel built without multicast
 * routing (CONFIG_IP_MROUTE and CONFIG_IPV6_MROUTE unset), on any kernel.
 *
 * It installs a seccomp filter, inherited by COMMAND and everything it starts, that answers
 * setsockopt(fd, IPPROTO_IP, MRT_INIT, ...) and setsockopt(fd, IPPROTO_IPV6, MRT6_INIT, ...)
 * (both option number 200) with ENOPROTOOPT, which is what such a kernel answers, and lets
 * every other system call through. Nothing in the code under test knows: .ci/vm uses it to
 * prove that the routed tests skip, naming CONFIG_IP_MROUTE, on a kernel that has routing.
 *
 * x86-64 only (the VM's architecture); a system call made under another architecture's
 * numbering (32-bit compatibility) is let through unfiltered.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* MRT_INIT (linux/mroute.h) and MRT6_INIT (linux/mroute6.h): the first of each router's
 * options. */
#define MROUTER_INIT 200

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: no-mroute COMMAND [ARGUMENT...]\n");
        return 2;
    }
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_setsockopt, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* The option name, setsockopt's third argument (an int: the low half on x86-64). */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MROUTER_INIT, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* The level, its second argument. */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_IP, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_IPV6, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOPROTOOPT & SECCOMP_RET_DATA)),
    };
    struct sock_fprog program = {
        .len = sizeof filter / sizeof filter[0],
        .filter = filter,
    };
    /* Required to install a filter without CAP_SYS_ADMIN; harmless with it. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        fprintf(stderr, "no-mroute: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
        return 126;
    }
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
        fprintf(stderr, "no-mroute: installing the seccomp filter: %s\n", strerror(errno));
        return 126;
    }
    execvp(argv[1], argv + 1);
    fprintf(stderr, "no-mroute: %s: %s\n", argv[1], strerror(errno));
    return 127;
}
