// Reads TCP_NODELAY of another process's socket from the kernel: finds the socket
// connected to a given remote address in /proc, duplicates it with pidfd_getfd(2)
// and asks getsockopt. Node cannot do either, so a short python3 script does
// (Linux >= 5.6, same user; python3 is in Debian's base system).

import { execFile } from 'node:child_process'

const SCRIPT = String.raw`
import ctypes, os, socket, struct, sys
pid, rhost, rport = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
want = '%s:%04X' % (struct.pack('<I', struct.unpack('!I', socket.inet_aton(rhost))[0]).hex().upper(), rport)
inodes = set()
with open('/proc/%d/net/tcp' % pid) as f:
    for line in f.readlines()[1:]:
        cols = line.split()
        if cols[2] == want and cols[3] == '01':  # remote address, state ESTABLISHED
            inodes.add(cols[9])
fds = []
for fd in os.listdir('/proc/%d/fd' % pid):
    try:
        target = os.readlink('/proc/%d/fd/%s' % (pid, fd))
    except OSError:
        continue
    if target.startswith('socket:[') and target[8:-1] in inodes:
        fds.append(int(fd))
libc = ctypes.CDLL(None, use_errno=True)
pidfd = os.pidfd_open(pid)
for fd in fds:
    local = libc.syscall(438, pidfd, fd, 0)  # pidfd_getfd
    if local < 0:
        sys.exit('pidfd_getfd: ' + os.strerror(ctypes.get_errno()))
    s = socket.socket(fileno=local)
    print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    s.close()
`

/** TCP_NODELAY (true/false) of each established socket of process `pid` connected to host:port. */
export function tcpNoDelayOf(pid: number, host: string, port: number): Promise<boolean[]> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', SCRIPT, String(pid), host, String(port)], { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`TCP_NODELAY probe failed: ${stderr || err.message}`))
      resolve(
        stdout
          .split('\n')
          .filter(Boolean)
          .map((v) => v.trim() !== '0'),
      )
    })
  })
}
