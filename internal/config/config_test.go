package config_test

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/config"
)

func load(env map[string]string, args ...string) (config.Config, error) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var names []string
	for _, s := range config.Settings {
		names = append(names, s.Flag)
	}
	return config.Load(fs, args, func(k string) string { return env[k] }, names...)
}

func TestDefaults(t *testing.T) {
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./zwfw-data" || c.JobWorkers != 10 || c.SQLiteSynchronous != "FULL" ||
		c.ShutdownTimeout != 30*time.Second || c.PublicURL != "http://127.0.0.1:8080" || c.Migrate ||
		c.OfficeDay.Minutes() != 7*60 || c.ComplaintReopenDays != 7 || c.HotlineStatusURL != "" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	c, err := load(map[string]string{"ZWFW_ADDR": "0.0.0.0:9000", "ZWFW_JOB_WORKERS": "3", "ZWFW_MIGRATE": "true"},
		"--addr", "127.0.0.1:9100", "--trusted-origins", "https://zwfw.example.gov.cn, https://b.example")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9100" || c.JobWorkers != 3 || !c.Migrate || len(c.TrustedOrigins) != 2 {
		t.Fatalf("%+v", c)
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := load(map[string]string{"ZWFW_TRUSTED_PROXIES": "10.1.2.3/8, 192.0.2.7,2001:db8::/32, ::ffff:198.51.100.1"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.0.2.7/32 2001:db8::/32 198.51.100.1/32" {
		t.Fatalf("trusted proxies %v", got)
	}
}

func TestSecretFromFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "db")
	os.WriteFile(p, []byte("postgres://u:secret@db/zwfw\n"), 0o600)
	c, err := load(map[string]string{"ZWFW_DATABASE_URL_FILE": p})
	if err != nil || c.DatabaseURL != "postgres://u:secret@db/zwfw" {
		t.Fatalf("%q %v", c.DatabaseURL, err)
	}
	// The variable itself wins over the file.
	c, _ = load(map[string]string{"ZWFW_DATABASE_URL_FILE": p, "ZWFW_DATABASE_URL": "x.db"})
	if c.DatabaseURL != "x.db" {
		t.Fatalf("%q", c.DatabaseURL)
	}
}

func TestBadValuesAreNamed(t *testing.T) {
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"ZWFW_ADDR": "8080"}, nil, "ZWFW_ADDR"},
		{map[string]string{"ZWFW_PUBLIC_URL": "ftp://x"}, nil, "ZWFW_PUBLIC_URL"},
		{map[string]string{"ZWFW_LOG_LEVEL": "loud"}, nil, "ZWFW_LOG_LEVEL"},
		{map[string]string{"ZWFW_SHUTDOWN_TIMEOUT": "soon"}, nil, "ZWFW_SHUTDOWN_TIMEOUT"},
		{map[string]string{"ZWFW_SQLITE_SYNCHRONOUS": "OFF"}, nil, "ZWFW_SQLITE_SYNCHRONOUS"},
		{map[string]string{"ZWFW_MAX_BODY_BYTES": "10"}, nil, "ZWFW_MAX_BODY_BYTES"},
		{map[string]string{"ZWFW_TRUSTED_ORIGINS": "example.com"}, nil, "ZWFW_TRUSTED_ORIGINS"},
		{map[string]string{"ZWFW_MIGRATE": "maybe"}, nil, "ZWFW_MIGRATE"},
		{map[string]string{"ZWFW_TRUSTED_PROXIES": "10.0.0.0/33"}, nil, "ZWFW_TRUSTED_PROXIES"},
		{map[string]string{"ZWFW_TRUSTED_PROXIES": "lb.internal"}, nil, "ZWFW_TRUSTED_PROXIES"},
		{nil, []string{"--db-max-conns", "many"}, "ZWFW_DB_MAX_CONNS"},
		{map[string]string{"ZWFW_OFFICE_HOURS": "9点到5点"}, nil, "ZWFW_OFFICE_HOURS"},
		{map[string]string{"ZWFW_OFFICE_HOURS": "13:00-12:00"}, nil, "ZWFW_OFFICE_HOURS"},
		{map[string]string{"ZWFW_COMPLAINT_REOPEN_DAYS": "0"}, nil, "ZWFW_COMPLAINT_REOPEN_DAYS"},
		{map[string]string{"ZWFW_HOTLINE_STATUS_URL": "12345.gov.cn"}, nil, "ZWFW_HOTLINE_STATUS_URL"},
	}
	for _, c := range cases {
		_, err := load(c.env, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "配置错误") {
			t.Errorf("%v %v: %v, want an error naming %s", c.env, c.args, err, c.want)
		}
	}
}

// README.md's configuration table lists every setting.
func TestReadmeListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range config.Settings {
		if !strings.Contains(string(readme), "`"+s.Env+"`") || !strings.Contains(string(readme), "`--"+s.Flag+"`") {
			t.Errorf("README.md does not document %s / --%s", s.Env, s.Flag)
		}
	}
}
