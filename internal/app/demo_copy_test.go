package app_test

// Seeding the demo district takes seconds per database under -race, and
// most of this package's tests start a demo without demo cases. They
// start from a copy of one district seeded once per package and database
// instead (copyDemo): `zwfw demo` reuses a data folder and database it
// finds seeded, as it does for a person who starts it again, and still
// makes what it makes at every start (the staff accounts, the printed
// keys). Tests that need the demo's cases copy a district seeded with
// them (copyDemoWithCases); tests of the first seeding itself seed their
// own.

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zwfw/zwfw/internal/apptest"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// A seededDemo is a test's own copy of the package's seeded district.
type seededDemo struct {
	Data string   // the data folder: keys, files and, on SQLite, the database
	DSN  string   // the database: SQLite's file, or a PostgreSQL URL
	Args []string // `zwfw demo` on them
}

// demoTemplate is the district seeded once per database kind, with or
// without the demo's cases.
type demoTemplate struct {
	once sync.Once
	data string // its data folder
	db   string // PostgreSQL: the template database's name
	err  error
}

type templateKey struct {
	kind  string // "sqlite" or "postgres"
	cases int
}

var demoTemplates = map[templateKey]*demoTemplate{{"sqlite", 0}: {}, {"postgres", 0}: {}, {"sqlite", demoCases}: {}, {"postgres", demoCases}: {}}

// demoCases is how many cases the district with cases is seeded with:
// enough for every state, the boards and the dashboards.
const demoCases = 80

// TestMain removes the seeded districts when the tests end. The tests
// run at go test's -parallel (GOMAXPROCS): four at a time made the
// packages beside this one wait for the two cores and the whole suite
// longer (docs/PERFORMANCE.md, "The test suite").
func TestMain(m *testing.M) {
	code := m.Run()
	for _, tpl := range demoTemplates {
		if tpl.data != "" {
			os.RemoveAll(tpl.data)
		}
		if tpl.db != "" {
			storetest.DropDatabase(os.Getenv(storetest.PostgresEnv), tpl.db)
		}
	}
	os.Exit(code)
}

// eachDatabase runs story as a subtest on SQLite and on PostgreSQL
// ("sqlite" and "postgres"), both at once.
func eachDatabase(t *testing.T, story func(t *testing.T, kind string)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			story(t, kind)
		})
	}
}

// copyDemo gives the test a copy of the seeded demo district on kind
// ("sqlite" or "postgres"), seeding it first if no test has.
func copyDemo(t *testing.T, kind string) seededDemo {
	t.Helper()
	return copyTemplate(t, templateKey{kind, 0})
}

// copyDemoWithCases is copyDemo of a district with the demo's cases, made
// through the workflow over the past weeks, and what follows them: the
// ratings, the bundles' applications, the survey's answers and the
// boards' entries.
func copyDemoWithCases(t *testing.T, kind string) seededDemo {
	t.Helper()
	return copyTemplate(t, templateKey{kind, demoCases})
}

func copyTemplate(t *testing.T, key templateKey) seededDemo {
	t.Helper()
	kind := key.kind
	base := os.Getenv(storetest.PostgresEnv)
	if kind == "postgres" && base == "" {
		t.Skip(storetest.PostgresEnv + " is not set: PostgreSQL tests skipped")
	}
	tpl := demoTemplates[key]
	tpl.once.Do(func() { tpl.err = tpl.seed(key, base) })
	if tpl.err != nil {
		t.Fatalf("seed the %s demo district: %v", kind, tpl.err)
	}
	d := seededDemo{Data: t.TempDir()}
	if err := copyDir(tpl.data, d.Data); err != nil {
		t.Fatalf("copy the seeded demo's data: %v", err)
	}
	d.Args = []string{"demo", "--data", d.Data}
	if kind == "sqlite" {
		d.DSN = filepath.Join(d.Data, "zwfw.db")
		return d
	}
	name := storetest.RandomName("t_")
	if err := storetest.CreateDatabase(base, name, tpl.db); err != nil {
		t.Fatalf("copy the seeded demo's database: %v", err)
	}
	t.Cleanup(func() { storetest.DropDatabase(base, name) })
	d.DSN = storetest.DatabaseURL(base, name)
	d.Args = append(d.Args, "--db", d.DSN)
	return d
}

// seed runs `zwfw demo` on a new data folder (and, for PostgreSQL, a new
// database) until it serves and, with cases, has made them and what
// follows them; then it stops it. It runs the binary apptest builds,
// without the race detector: the seeding is a fixture here, six times
// cheaper so (the demo's 80 cases: 5.5 s of CPU instead of 33 s), and is
// run under the race detector by TestDemoServesTheDistrict and
// internal/demo's tests.
func (tpl *demoTemplate) seed(key templateKey, base string) error {
	bin, err := apptest.Build()
	if err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	dir, err := os.MkdirTemp("", "zwfw-demo-seeded-")
	if err != nil {
		return err
	}
	tpl.data = dir
	args := []string{"demo", "--data", dir, "--addr", "127.0.0.1:0", "--demo-cases", strconv.Itoa(key.cases)}
	if key.kind == "postgres" {
		tpl.db = storetest.RandomName("zwfw_demo_seeded_")
		if err := storetest.CreateDatabase(base, tpl.db, ""); err != nil {
			return err
		}
		args = append(args, "--db", storetest.DatabaseURL(base, tpl.db))
	}
	cmd := exec.Command(bin, args...)
	// As app.Run in a test: none of the developer's ZWFW_ settings.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ZWFW_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	pr, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return err
	}
	var out strings.Builder
	late := false
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if listening.MatchString(sc.Text()) {
			// The cases are made in the background, the boards' entries
			// last of all.
			for deadline := time.Now().Add(5 * time.Minute); key.cases > 0 && !late &&
				!strings.Contains(logs.String(), "demo survey answers and board entries made"); time.Sleep(100 * time.Millisecond) {
				late = time.Now().After(deadline)
			}
			// Stopped as a person stops it: the server and the jobs shut
			// down, and the data are left as a restart finds them.
			cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	err = cmd.Wait()
	if late {
		return fmt.Errorf("the demo's cases were not made in 5 minutes:\n%s", logs.String())
	}
	if err != nil {
		return fmt.Errorf("%v\n%s\n%s", err, out.String(), logs.String())
	}
	if !strings.Contains(out.String(), "已创建演示区") {
		return fmt.Errorf("the demo did not seed a new district:\n%s", out.String())
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		return fmt.Errorf("the demo logged errors while seeding:\n%s", logs.String())
	}
	return nil
}

// copyDir copies the folder src into dst (which exists), keeping each
// file's and folder's permissions: the data are the owner's alone.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := e.Info()
		if err != nil {
			return err
		}
		if e.IsDir() {
			if err := os.MkdirAll(target, info.Mode().Perm()); err != nil {
				return err
			}
			return os.Chmod(target, info.Mode().Perm())
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
