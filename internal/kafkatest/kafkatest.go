// Package kafkatest runs a real Apache Kafka broker for weir's tests: a
// single KRaft node (broker and controller in one JVM) on loopback ports, its
// logs in a temporary directory, stopped (its whole process group) by Stop.
// Tests use it only; the broker's jars come from `make kafka`
// (scripts/kafka.sh), which fetches Apache Kafka from Maven Central.
//
// A missing broker or Java is an error that says how to install it: tests
// that need Kafka fail instead of being skipped.
//
// kafkatest imports only the standard library.
package kafkatest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Version is the Apache Kafka release the tests run (scripts/kafka/pom.xml).
const Version = "4.1.1"

// LibDir is the directory of the broker's jars: $WEIR_KAFKA_LIBS, or
// ~/.cache/weir-kafka/<Version>/libs where `make kafka` puts them.
func LibDir() string {
	if d := os.Getenv("WEIR_KAFKA_LIBS"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "weir-kafka", Version, "libs")
}

// Broker is a running single-node Kafka cluster.
type Broker struct {
	// Addr is the bootstrap address, 127.0.0.1:port.
	Addr string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
}

// Start formats a new log directory and starts a broker on free loopback
// ports; it returns once the broker accepts clients. The caller calls Stop.
func Start() (*Broker, error) {
	libs := LibDir()
	if jars, _ := filepath.Glob(filepath.Join(libs, "kafka_2.13-*.jar")); len(jars) == 0 {
		return nil, fmt.Errorf("kafkatest: Apache Kafka %s is not installed in %s: run `make kafka` (scripts/kafka.sh fetches it from Maven Central with mvn), or set WEIR_KAFKA_LIBS to a directory of its jars", Version, libs)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("kafkatest: java (17 or newer) is not on PATH; the Kafka broker needs it (apt-get install openjdk-17-jre-headless)")
	}
	dir, err := os.MkdirTemp("", "weir-kafka-")
	if err != nil {
		return nil, fmt.Errorf("kafkatest: %w", err)
	}
	ports, err := freePorts(2)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("kafkatest: %w", err)
	}
	b := &Broker{Addr: fmt.Sprintf("127.0.0.1:%d", ports[0]), dir: dir, done: make(chan struct{})}
	props := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(props, []byte(serverProperties(ports[0], ports[1], filepath.Join(dir, "data"))), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("kafkatest: %w", err)
	}
	classpath := filepath.Join(libs, "*")
	jvm := []string{"-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
		"-Dlog4j2.configurationFile=" + filepath.Join(dir, "log4j2.properties"), "-cp", classpath}
	if err := os.WriteFile(filepath.Join(dir, "log4j2.properties"), []byte(log4jProperties), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("kafkatest: %w", err)
	}
	format := exec.Command(java, append(jvm, "kafka.tools.StorageTool", "format", "--cluster-id", clusterID(), "--config", props, "--ignore-formatted")...)
	if out, err := format.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("kafkatest: formatting the broker's storage: %v\n%s", err, out)
	}
	logPath := filepath.Join(dir, "broker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("kafkatest: %w", err)
	}
	b.cmd = exec.Command(java, append(jvm, "kafka.Kafka", props)...)
	b.cmd.Stdout, b.cmd.Stderr = logFile, logFile
	// Its own process group, so Stop ends any child too; and killed with the
	// test process, so a crashed test leaves no JVM behind.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		logFile.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("kafkatest: starting the broker: %w", err)
	}
	go func() {
		b.cmd.Wait()
		logFile.Close()
		close(b.done)
	}()
	deadline := time.Now().Add(90 * time.Second)
	for {
		log, _ := os.ReadFile(logPath)
		if bytes.Contains(log, []byte("Kafka Server started")) {
			if c, err := net.DialTimeout("tcp", b.Addr, time.Second); err == nil {
				c.Close()
				return b, nil
			}
		}
		select {
		case <-b.done:
			b.Stop()
			return nil, fmt.Errorf("kafkatest: the broker exited during startup (%v); its log:\n%s", b.cmd.ProcessState, tail(log))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Stop()
			return nil, fmt.Errorf("kafkatest: the broker did not start within 90s; its log:\n%s", tail(log))
		}
	}
}

// Stop ends the broker's process group (SIGTERM, then SIGKILL after 3s: its data is thrown away)
// and removes its directory. It is safe to call more than once.
func (b *Broker) Stop() {
	b.once.Do(func() {
		if b.cmd != nil && b.cmd.Process != nil {
			pgid := b.cmd.Process.Pid
			syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-b.done:
			case <-time.After(3 * time.Second):
				syscall.Kill(-pgid, syscall.SIGKILL)
				<-b.done
			}
			// Anything left in the group (there should be nothing).
			syscall.Kill(-pgid, syscall.SIGKILL)
		}
		os.RemoveAll(b.dir)
	})
}

// Pid is the broker JVM's process id.
func (b *Broker) Pid() int { return b.cmd.Process.Pid }

// Exited reports whether the broker process has ended.
func (b *Broker) Exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

func serverProperties(port, controllerPort int, data string) string {
	return strings.Join([]string{
		"process.roles=broker,controller",
		"node.id=1",
		fmt.Sprintf("controller.quorum.voters=1@127.0.0.1:%d", controllerPort),
		fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", port, controllerPort),
		fmt.Sprintf("advertised.listeners=PLAINTEXT://127.0.0.1:%d", port),
		"controller.listener.names=CONTROLLER",
		"inter.broker.listener.name=PLAINTEXT",
		"listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
		"log.dirs=" + data,
		"num.partitions=1",
		"num.network.threads=2",
		"num.io.threads=2",
		"offsets.topic.replication.factor=1",
		"offsets.topic.num.partitions=1",
		"transaction.state.log.replication.factor=1",
		"transaction.state.log.min.isr=1",
		"transaction.state.log.num.partitions=1",
		"group.initial.rebalance.delay.ms=0",
		"share.coordinator.state.topic.replication.factor=1",
		"share.coordinator.state.topic.min.isr=1",
		"auto.create.topics.enable=true",
		"log.flush.interval.messages=1000000",
		"",
	}, "\n")
}

// log4jProperties keeps the broker's log to what startup waits for and
// errors.
const log4jProperties = `status = error
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = out
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
`

// clusterID is a new random Kafka cluster id: 16 bytes, URL-safe base64,
// not starting with '-' (1 in 64 would: kafka-storage then reads it as an
// option and refuses to format).
func clusterID() string {
	for {
		var id [16]byte
		rand.Read(id[:])
		if s := base64.RawURLEncoding.EncodeToString(id[:]); s[0] != '-' {
			return s
		}
	}
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.New("no free loopback port: " + err.Error())
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func tail(log []byte) string {
	if len(log) > 4000 {
		log = log[len(log)-4000:]
	}
	return string(log)
}
