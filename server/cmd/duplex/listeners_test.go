package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duplex-chat/duplex/shared/testpoll"
)

// buildBinary builds the duplex command into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "duplex")
	build := exec.Command(rcGoTool(t), "build", "-o", bin, "./server/cmd/duplex")
	build.Dir = rcRepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// selfSignedCert writes a certificate and key for 127.0.0.1 into dir.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// TestBinaryListeners runs the real binary with TLS, -metrics-addr and
// -redirect-addr: HTTPS responses carry HSTS, /metrics is served on its
// own listener (and not on the main one), and the plain-HTTP listener
// redirects to HTTPS. A -debug-addr on every interface stops the binary
// at start with a clear message.
func TestBinaryListeners(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	tmp := t.TempDir()
	bin := buildBinary(t, tmp)

	out, err := exec.Command(bin, "-debug-addr", ":6060", "-data", filepath.Join(tmp, "refused")).CombinedOutput()
	if code := exitCode(err); code != 2 || !strings.Contains(string(out), "loopback") {
		t.Errorf("-debug-addr :6060: exit %d, %q; want exit 2 naming loopback", code, out)
	}

	cert, key := selfSignedCert(t, tmp)
	addr, metricsAddr, redirectAddr := "127.0.0.1:"+rcFreePort(t), "127.0.0.1:"+rcFreePort(t), "127.0.0.1:"+rcFreePort(t)
	cmd := exec.Command(bin, "-addr", addr, "-data", filepath.Join(tmp, "data"), "-web", repoWeb(t),
		"-tls-cert", cert, "-tls-key", key, "-metrics-addr", metricsAddr, "-redirect-addr", redirectAddr)
	startBinary(t, cmd, filepath.Join(tmp, "server.log"))

	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: noRedirect.CheckRedirect,
		Timeout:       opsWait,
	}
	get := func(url string) *http.Response {
		t.Helper()
		var resp *http.Response
		var err error
		testpoll.Until(t, "GET "+url, func() bool {
			if resp, err = client.Get(url); err == nil {
				resp.Body.Close()
			}
			return err == nil
		}, func() string {
			b, _ := os.ReadFile(filepath.Join(tmp, "server.log"))
			return fmt.Sprintf("%v\nserver log:\n%s", err, b)
		})
		return resp
	}
	if resp := get("https://" + addr + "/healthz"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("https /healthz: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	if resp := get("https://" + addr + "/metrics"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("https /metrics on the main listener with -metrics-addr: %d, want 404", resp.StatusCode)
	}
	if resp := get("http://" + metricsAddr + "/metrics"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("/metrics on -metrics-addr: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	_, port, _ := net.SplitHostPort(addr)
	want := "https://127.0.0.1:" + port + "/r/lobby?x=1"
	if resp := get("http://" + redirectAddr + "/r/lobby?x=1"); resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Errorf("redirect listener: %d %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
