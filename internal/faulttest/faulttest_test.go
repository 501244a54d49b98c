// Package faulttest runs the zwfw binary against faulty surroundings (issue
// 13): its files on an S3-protocol server process, and a file store whose
// disk fills up. It lives beside internal/app, whose suite is long, and runs
// one demo per test, on SQLite.
package faulttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/zwfw/zwfw/internal/apptest"
	"github.com/zwfw/zwfw/internal/filestore/s3test"
	"github.com/zwfw/zwfw/internal/loadgen"
	"github.com/zwfw/zwfw/internal/store"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

// demo runs `zwfw demo` with args and env as its own process until the
// test ends, and returns its URL.
func demo(t *testing.T, env []string, args ...string) string {
	t.Helper()
	// No past cases generated in the background: these tests need none.
	return apptest.Start(t, env, append([]string{"demo", "--addr", "127.0.0.1:0", "--demo-cases", "0"}, args...)...).URL
}

// applicant registers a citizen on the demo at url and finds an item to
// apply for online with one material.
func applicant(t *testing.T, url string) (*loadgen.Client, loadgen.Applicant, loadgen.Target) {
	t.Helper()
	c := loadgen.NewClient(url, 2)
	a, err := c.Register(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	target, err := c.PickItem(context.Background(), 1, "", a)
	if err != nil {
		t.Fatal(err)
	}
	return c, a, target
}

// download reads material n of a case as its applicant.
func download(t *testing.T, url string, a loadgen.Applicant, id int64, n int) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/cases/%d/materials/%d", url, id, n), nil)
	req.AddCookie(&http.Cookie{Name: "zwfw_session", Value: a.Token})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: status %d: %.200s", resp.StatusCode, b)
	}
	return b
}

// The demo keeps an application's material on an S3 server process
// (ZWFW_S3_*), reads it back from there, and still has it after that
// server was killed and started again.
func TestDemoFilesOnS3Process(t *testing.T) {
	t.Parallel()
	const bucket = "zwfw-files"
	srv := s3test.Start(t, bucket)
	url := demo(t, []string{"ZWFW_S3_ENDPOINT=" + srv.Endpoint(), "ZWFW_S3_BUCKET=" + bucket, "ZWFW_S3_REGION=" + s3test.Region,
		"ZWFW_S3_ACCESS_KEY=" + s3test.AccessKey, "ZWFW_S3_SECRET_KEY=" + s3test.SecretKey, "ZWFW_S3_SSL=false"},
		"--data", t.TempDir())
	c, a, target := applicant(t, url)
	// Over staging's 1 MB, so it goes to the file store in the request.
	data := loadgen.NoisyPDF(7, 1536<<10)
	r, err := c.Submit(context.Background(), a, target, []loadgen.File{{Name: "材料.pdf", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Materials) != 1 {
		t.Fatalf("receipt %+v", r)
	}
	key := "sha256/" + r.Materials[0].SHA256
	obj, err := srv.Client(t).GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(stored, data) {
		t.Fatalf("the bucket's %s: %d bytes, %v", key, len(stored), err)
	}
	if got := download(t, url, a, r.ID, r.Materials[0].Position); !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes, submitted %d", len(got), len(data))
	}
	srv.Restart()
	if got := download(t, url, a, r.ID, r.Materials[0].Position); !bytes.Equal(got, data) {
		t.Fatal("the material changed across the S3 server's restart")
	}
}

// The demo's file store fills its disk (a real tmpfs): the upload is
// refused with a clear message, nothing of it is kept (no case, no file,
// no temporary file), and once there is space the same upload goes in.
func TestDemoDiskFull(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	files := filepath.Join(data, "files")
	if err := os.Mkdir(files, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", files, "tmpfs", 0, "size=1m,mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(files, syscall.MNT_DETACH) })
	// The database is on another disk: only the file store is full.
	dsn := filepath.Join(t.TempDir(), "zwfw.db")
	url := demo(t, nil, "--data", data, "--db", dsn)
	c, a, target := applicant(t, url)
	big := loadgen.NoisyPDF(8, 1536<<10)
	_, err := c.Submit(context.Background(), a, target, []loadgen.File{{Name: "材料.pdf", Data: big}})
	if err == nil || !strings.Contains(err.Error(), "status 503") || !strings.Contains(err.Error(), "服务器存储空间不足，文件未保存，请稍后再试") {
		t.Fatalf("submission on a full disk: %v", err)
	}
	checkRecords(t, dsn, files, loadgen.Checksum(big))
	// Nothing of the refused file, whole or partial, under its name or a
	// temporary one.
	for _, f := range regularFiles(t, files) {
		head := make([]byte, 64)
		if fh, err := os.Open(f); err == nil {
			io.ReadFull(fh, head)
			fh.Close()
		}
		if filepath.Base(f) == loadgen.Checksum(big) || bytes.Equal(head, big[:64]) {
			t.Fatalf("left on the full disk: %s", f)
		}
	}

	if err := syscall.Mount("tmpfs", files, "tmpfs", syscall.MS_REMOUNT, "size=4m,mode=0700"); err != nil {
		t.Fatal(err)
	}
	r, err := c.Submit(context.Background(), a, target, []loadgen.File{{Name: "材料.pdf", Data: big}})
	if err != nil {
		t.Fatalf("submission once there is space: %v", err)
	}
	if got := download(t, url, a, r.ID, r.Materials[0].Position); !bytes.Equal(got, big) {
		t.Fatal("stored material differs")
	}
	checkRecords(t, dsn, files, "")
}

// checkRecords checks the demo's database: no case refers to content
// sum, and every material it records is in the file store (files) or
// still staged in the database.
func checkRecords(t *testing.T, dsn, files, sum string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var refs int
	if err := db.Read().QueryRow(ctx, `SELECT COUNT(*) FROM case_materials WHERE sha256 = ?`, sum).Scan(&refs); err != nil {
		t.Fatal(err)
	}
	if refs != 0 {
		t.Fatalf("%d material rows refer to the refused file", refs)
	}
	rows, err := db.Read().Query(ctx, `SELECT m.sha256, (SELECT COUNT(*) FROM staged_files s WHERE s.sha256 = m.sha256)
		FROM case_materials m WHERE m.sha256 <> ''`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var sha string
		var staged int
		if err := rows.Scan(&sha, &staged); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(files, sha[:2], sha[2:4], sha)); err != nil && staged == 0 {
			t.Fatalf("material %s is recorded but neither stored nor staged: %v", sha, err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// regularFiles lists the files under dir, temporary ones included.
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
