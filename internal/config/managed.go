package config

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// ManagedBytes returns the managed memory of a job
// (taskmanager.memory.managed.size): the value set, or, when it is not set, a
// quarter of the machine's memory (1 GiB where that cannot be read). Flink
// gives managed memory a fraction (0.4) of a TaskManager's memory; weir's
// engine is the whole process, so a quarter of the machine leaves room for
// the Python workers and the rest of the system.
func (c *Config) ManagedBytes() int64 {
	if n := c.Bytes(ManagedMemory); n > 0 {
		return n
	}
	return machineMemory() / 4
}

// machineMemory is MemTotal of /proc/meminfo, or 4 GiB where there is none.
func machineMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 4 << 30
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil && kb > 0 {
				return kb << 10
			}
		}
	}
	return 4 << 30
}
