// labcall: the lab's tool shim. `lab/bin/<tool>` execs it as `labcall <fallback-entry> <tool> [args...]`; it
// forwards the call (argv, environment, working directory, pid) to the lab tool server on $MESHPILOT_LAB_SOCKET,
// copies the answer to stdout/stderr and exits with the tool's exit code. Stdin is read and sent only when the
// simulated tool asks for it, like a real tool that reads `-f -`. When the server cannot be reached (a worker
// killed with SIGKILL leaves its socket file), it execs `node <fallback-entry> <tool> [args...]` instead, which
// runs the same simulator in its own process. Standard library only: built by scripts/setup.d/45-lab-shim.sh.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

func writeFrame(w io.Writer, t byte, body []byte) error {
	head := make([]byte, 5)
	head[0] = t
	binary.BigEndian.PutUint32(head[1:], uint32(len(body)))
	if _, err := w.Write(head); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

func fallback(entry string, args []string) {
	node, err := exec.LookPath("node")
	if err != nil {
		fmt.Fprintf(os.Stderr, "meshpilot lab: the lab tool server is not reachable and node is not on PATH: %v\n", err)
		os.Exit(127)
	}
	err = syscall.Exec(node, append([]string{"node", entry}, args...), os.Environ())
	fmt.Fprintf(os.Stderr, "meshpilot lab: exec node: %v\n", err)
	os.Exit(127)
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: labcall <fallback-entry.mjs> <tool> [args...]")
		os.Exit(2)
	}
	entry, args := os.Args[1], os.Args[2:]
	sock := os.Getenv("MESHPILOT_LAB_SOCKET")
	if sock == "" {
		fallback(entry, args)
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		fallback(entry, args)
	}
	defer conn.Close()
	cwd, err := os.Getwd()
	if err != nil {
		cwd = "/"
	}
	call, _ := json.Marshal(map[string]any{
		"tool": args[0],
		"argv": args[1:],
		"env":  os.Environ(),
		"cwd":  cwd,
		"pid":  os.Getpid(),
	})
	if err := writeFrame(conn, 'q', call); err != nil {
		fallback(entry, args)
	}
	r := bufio.NewReader(conn)
	head := make([]byte, 5)
	for {
		if _, err := io.ReadFull(r, head); err != nil {
			fmt.Fprintf(os.Stderr, "meshpilot lab: the lab tool server closed the call without an exit code (%v)\n", err)
			os.Exit(70)
		}
		body := make([]byte, binary.BigEndian.Uint32(head[1:]))
		if _, err := io.ReadFull(r, body); err != nil {
			fmt.Fprintf(os.Stderr, "meshpilot lab: truncated answer from the lab tool server (%v)\n", err)
			os.Exit(70)
		}
		switch head[0] {
		case 'o':
			os.Stdout.Write(body)
		case 'e':
			os.Stderr.Write(body)
		case 'i':
			in, _ := io.ReadAll(os.Stdin)
			if err := writeFrame(conn, 's', in); err != nil {
				fmt.Fprintf(os.Stderr, "meshpilot lab: sending stdin to the lab tool server: %v\n", err)
				os.Exit(70)
			}
		case 'x':
			code, err := strconv.Atoi(string(body))
			if err != nil {
				code = 70
			}
			os.Exit(code)
		}
	}
}
