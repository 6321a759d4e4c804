// Command workload is the test and demo workload of the local node: it uses the identity meshid
// mounts into its pod for mutual TLS, the way a real service would.
//
// It serves mTLS on -listen, dials -peer every -interval, and on both sides verifies the peer's
// chain against the mounted trust bundle (ca.crt) and its SPIFFE ID against -peer-id (by default
// its own ID: replicas of one workload talk to each other). Every handshake gives one log line:
//
//	handshake side=client peer=spiffe://... peer_serial=... own_serial=... result=ok
//	handshake side=server peer= peer_serial= own_serial=... result=fail error="..."
//
// It re-reads tls.crt, tls.key and ca.crt whenever their content changes (the kubelet swaps a
// Secret volume's files atomically), logging "loaded identity serial=... not_after=...", so a
// renewal is seen from inside the running container.
package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

type identity struct {
	cert   tls.Certificate
	leaf   *x509.Certificate
	roots  *x509.CertPool
	id     string
	serial string
	sum    [32]byte
}

type workload struct {
	dir    string
	peerID string
	mu     sync.RWMutex
	cur    *identity
	logMu  sync.Mutex
}

func main() {
	dir := flag.String("identity-dir", "/var/run/secrets/meshid.dev", "directory with tls.crt, tls.key and ca.crt")
	listen := flag.String("listen", ":8443", "mTLS listen address (empty: do not serve)")
	peer := flag.String("peer", "", "host:port to dial (empty: do not dial)")
	peerID := flag.String("peer-id", "", "SPIFFE ID the peer must present (default: this workload's own)")
	interval := flag.Duration("interval", 2*time.Second, "time between dials and between identity checks")
	list := flag.String("ls", "", "list the files of this directory (mode, owner, size) and exit: the image has no shell")
	flag.Parse()
	if *list != "" {
		os.Exit(listFiles(*list))
	}

	w := &workload{dir: *dir, peerID: *peerID}
	for {
		err := w.reload()
		if err == nil {
			break
		}
		w.logf("waiting for identity: %v", err)
		time.Sleep(*interval)
	}
	go func() {
		for range time.Tick(*interval) {
			if err := w.reload(); err != nil {
				w.logf("reload failed, keeping serial=%s: %v", w.current().serial, err)
			}
		}
	}()
	if *listen != "" {
		go w.serve(*listen)
	}
	if *peer != "" {
		go w.dialLoop(*peer, *interval)
	}
	select {}
}

// listFiles prints each file of dir as `ls -lnL` would: mode, uid, gid, size, name. The
// kubelet's Secret volumes hold symlinks into a timestamped directory; the targets are listed.
func listFiles(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") {
			continue
		}
		info, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		st := info.Sys().(*syscall.Stat_t)
		fmt.Printf("%s %5d %5d %6d %s\n", info.Mode().String(), st.Uid, st.Gid, info.Size(), e.Name())
	}
	return 0
}

func (w *workload) logf(format string, args ...any) {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	fmt.Fprintf(os.Stdout, "%s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

func (w *workload) current() *identity {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.cur
}

// reload loads the identity files when their content differs from the loaded ones.
func (w *workload) reload() error {
	read := func(n string) ([]byte, error) { return os.ReadFile(filepath.Join(w.dir, n)) }
	crt, err := read("tls.crt")
	if err != nil {
		return err
	}
	key, err := read("tls.key")
	if err != nil {
		return err
	}
	ca, err := read("ca.crt")
	if err != nil {
		return err
	}
	sum := sha256.Sum256(bytes.Join([][]byte{crt, key, ca}, []byte{0}))
	if cur := w.current(); cur != nil && cur.sum == sum {
		return nil
	}
	cert, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return err
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		return errors.New("ca.crt holds no certificate")
	}
	id := spiffeID(leaf)
	if id == "" {
		return errors.New("tls.crt has no spiffe:// URI SAN")
	}
	next := &identity{cert: cert, leaf: leaf, roots: roots, id: id, serial: hex.EncodeToString(leaf.SerialNumber.Bytes()), sum: sum}
	w.mu.Lock()
	w.cur = next
	w.mu.Unlock()
	w.logf("loaded identity id=%s serial=%s not_after=%s", id, next.serial, leaf.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

func spiffeID(c *x509.Certificate) string {
	for _, u := range c.URIs {
		if u.Scheme == "spiffe" {
			return u.String()
		}
	}
	return ""
}

// peerInfo is what the log says about the other side of a handshake.
type peerInfo struct{ id, serial string }

// verifyPeer checks the peer's chain against the current trust bundle and its SPIFFE ID; it
// records the peer's ID and serial, also on failure when the leaf could be parsed.
func (w *workload) verifyPeer(raw [][]byte, usage x509.ExtKeyUsage, out *peerInfo) error {
	if len(raw) == 0 {
		return errors.New("peer sent no certificate")
	}
	certs := make([]*x509.Certificate, 0, len(raw))
	for _, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return err
		}
		certs = append(certs, c)
	}
	peer := spiffeID(certs[0])
	*out = peerInfo{id: peer, serial: hex.EncodeToString(certs[0].SerialNumber.Bytes())}
	cur := w.current()
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: cur.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return err
	}
	want := w.peerID
	if want == "" {
		want = cur.id
	}
	if peer != want {
		return fmt.Errorf("peer ID %q is not %q", peer, want)
	}
	return nil
}

// tlsConfig verifies peers itself (against the bundle loaded at handshake time, so a rotated
// bundle applies at once) and presents the certificate loaded at handshake time.
func (w *workload) tlsConfig(side string, peerOut *peerInfo) *tls.Config {
	usage := x509.ExtKeyUsageClientAuth
	if side == "client" {
		usage = x509.ExtKeyUsageServerAuth
	}
	verify := func(raw [][]byte, _ [][]*x509.Certificate) error {
		return w.verifyPeer(raw, usage, peerOut)
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return &w.current().cert, nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &w.current().cert, nil
		},
		ClientAuth:            tls.RequireAnyClientCert,
		InsecureSkipVerify:    true, // the chain and the SPIFFE ID are checked in VerifyPeerCertificate
		VerifyPeerCertificate: verify,
	}
}

func (w *workload) logHandshake(side string, peer peerInfo, err error) {
	serial := w.current().serial
	if err != nil {
		w.logf("handshake side=%s peer=%s peer_serial=%s own_serial=%s result=fail error=%q", side, peer.id, peer.serial, serial, err.Error())
		return
	}
	w.logf("handshake side=%s peer=%s peer_serial=%s own_serial=%s result=ok", side, peer.id, peer.serial, serial)
}

func (w *workload) serve(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		w.logf("listen %s: %v", addr, err)
		os.Exit(1)
	}
	w.logf("serving mTLS on %s", addr)
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer c.Close()
			var peer peerInfo
			tc := tls.Server(c, w.tlsConfig("server", &peer))
			_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
			err := tc.Handshake()
			w.logHandshake("server", peer, err)
			if err == nil {
				_, _ = io.WriteString(tc, w.current().id+"\n")
			}
		}()
	}
}

func (w *workload) dialLoop(addr string, interval time.Duration) {
	for {
		var peer peerInfo
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			w.logf("dial %s: %v", addr, err)
		} else {
			tc := tls.Client(c, w.tlsConfig("client", &peer))
			_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
			err = tc.Handshake()
			if err == nil {
				_, err = io.ReadAll(tc)
			}
			w.logHandshake("client", peer, err)
			c.Close()
		}
		time.Sleep(interval)
	}
}
