// Command s3server is the S3-protocol server that the file store's tests
// start as a child process (issue 13: a real server process that a test can
// kill and restart, not an in-process fake). It is not part of zwfw.
//
// Why this server: MinIO and SeaweedFS ship as binaries that cannot be
// fetched here or on CI, only Go modules can. gofakes3 speaks the S3 HTTP
// protocol with signatures and Content-MD5, and its s3afero backend keeps
// objects and their metadata as files, so a restarted server still has them.
// Its own command (gofakes3/cmd/gofakes3) also links the bolt backend and
// with it gopkg.in/mgo.v2, a module this project does not take; this one
// links only the file backend.
//
// s3afero writes an object straight to its final file while the request
// body arrives, so a server killed mid-upload would show a truncated object,
// which S3 and MinIO never do (a PUT is atomic). The body is therefore
// received whole into a spool file first and handed to the backend only
// then; a kill before that leaves only the spool file, removed at the next
// start.
//
// Usage: s3server -dir DIR -addr 127.0.0.1:0 -bucket NAME. Once listening it
// prints "listening on HOST:PORT" on standard output.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
)

func main() {
	dir := flag.String("dir", "", "folder that keeps the buckets (created if missing)")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	bucket := flag.String("bucket", "", "bucket to create if it does not exist")
	flag.Parse()
	if err := run(*dir, *addr, *bucket); err != nil {
		log.Fatal(err)
	}
}

func run(dir, addr, bucket string) error {
	if dir == "" {
		return fmt.Errorf("s3server: -dir not set")
	}
	spool := filepath.Join(dir, "spool")
	if err := os.RemoveAll(spool); err != nil { // a killed server's bodies
		return err
	}
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return err
	}
	fs, err := s3afero.FsPath(filepath.Join(dir, "data"), s3afero.FsPathCreateAll)
	if err != nil {
		return err
	}
	multi, err := s3afero.MultiBucket(fs)
	if err != nil {
		return err
	}
	if bucket != "" {
		if err := multi.CreateBucket(bucket); err != nil && !gofakes3.IsAlreadyExists(err) {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	s3 := gofakes3.New(&spooled{MultiBucketBackend: multi, dir: spool}, gofakes3.WithLogger(gofakes3.DiscardLog()))
	return http.Serve(ln, s3.Server())
}

// spooled receives a PUT's whole body before the backend writes anything.
type spooled struct {
	*s3afero.MultiBucketBackend
	dir string
}

func (s *spooled) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	f, err := os.CreateTemp(s.dir, "put-*")
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	// The reader fails at its end when the body is short or its
	// Content-MD5 does not match: nothing reaches the backend then.
	n, err := io.Copy(f, input)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	if n != size {
		return gofakes3.PutObjectResult{}, fmt.Errorf("s3server: body of %d bytes, announced %d", n, size)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	return s.MultiBucketBackend.PutObject(bucket, key, meta, f, size, cond)
}
