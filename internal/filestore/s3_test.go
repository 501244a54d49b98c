package filestore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/zwfw/zwfw/internal/filestore/s3test"
)

const testBucket = "zwfw-files"

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

// newS3Harness returns a store on a new bucket of srv, an S3-protocol
// server running as a separate process (see s3test).
func newS3Harness(t *testing.T, srv *s3test.Server, bucket string) harness {
	tempDir := t.TempDir()
	s, err := NewS3(context.Background(), S3Config{
		Endpoint:  srv.Endpoint(),
		Region:    s3test.Region,
		Bucket:    bucket,
		AccessKey: s3test.AccessKey,
		SecretKey: s3test.SecretKey,
		PathStyle: true,
		TempDir:   tempDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	return harness{
		store:     s,
		stored:    func(t *testing.T) int { return len(s3Keys(t, s)) },
		leftovers: func(t *testing.T) []string { return dirNames(t, tempDir) },
	}
}

// oneS3Harness is a store on its own server process.
func oneS3Harness(t *testing.T) harness {
	return newS3Harness(t, s3test.Start(t, testBucket), testBucket)
}

// The contract runs against one server process, a new bucket per subtest.
func TestS3Contract(t *testing.T) {
	srv := s3test.Start(t, "")
	var n atomic.Int32
	testStore(t, func(t *testing.T) harness {
		bucket := fmt.Sprintf("contract-%d", n.Add(1))
		srv.MakeBucket(t, bucket)
		return newS3Harness(t, srv, bucket)
	})
}

// s3Keys lists every key in the bucket, over the wire.
func s3Keys(t *testing.T, s *S3) []string {
	t.Helper()
	var keys []string
	for o := range s.client.ListObjects(context.Background(), s.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys
}

func TestS3KeyAndMetadata(t *testing.T) {
	h := oneS3Harness(t)
	s := h.store.(*S3)
	ctx := context.Background()
	data := makePNG(t)
	obj, err := s.Put(ctx, bytes.NewReader(data), mib)
	if err != nil {
		t.Fatal(err)
	}
	keys := s3Keys(t, s)
	if want := "sha256/" + obj.SHA256; len(keys) != 1 || keys[0] != want {
		t.Fatalf("keys %v, want [%s]", keys, want)
	}
	info, err := s.client.StatObject(ctx, testBucket, keys[0], minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.ContentType != TypePNG || info.Size != int64(len(data)) {
		t.Fatalf("stored Content-Type %q size %d, want %q %d", info.ContentType, info.Size, TypePNG, len(data))
	}
}

// An object written by another tool without a usable Content-Type is typed
// from its bytes.
func TestS3OpenDetectsMissingType(t *testing.T) {
	h := oneS3Harness(t)
	s := h.store.(*S3)
	ctx := context.Background()
	data := makeJPEG(t)
	key := "sha256/" + sum(data)
	if _, err := s.client.PutObject(ctx, testBucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
		t.Fatal(err)
	}
	got, obj := readAll(t, s, sum(data))
	if !bytes.Equal(got, data) || obj.ContentType != TypeJPEG || obj.Size != int64(len(data)) {
		t.Fatalf("Open = %+v (%d bytes)", obj, len(got))
	}
}

func TestNewS3Errors(t *testing.T) {
	url := s3test.Start(t, testBucket).Endpoint()
	ctx := context.Background()
	base := S3Config{Endpoint: url, Region: s3test.Region, Bucket: testBucket, AccessKey: "k", SecretKey: "s", PathStyle: true}

	missing := base
	missing.Bucket = "no-such-bucket"
	if _, err := NewS3(ctx, missing); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("NewS3 with a missing bucket = %v", err)
	}
	noBucket := base
	noBucket.Bucket = ""
	if _, err := NewS3(ctx, noBucket); err == nil {
		t.Error("NewS3 without a bucket succeeded")
	}
	ssl := base
	ssl.UseSSL = true // but the endpoint says http://
	if _, err := NewS3(ctx, ssl); err == nil {
		t.Error("NewS3 with a scheme contradicting UseSSL succeeded")
	}
	hostOnly := base
	hostOnly.Endpoint = strings.TrimPrefix(url, "http://")
	if _, err := NewS3(ctx, hostOnly); err != nil {
		t.Errorf("NewS3 with host:port endpoint: %v", err)
	}
}

func TestS3Endpoint(t *testing.T) {
	for _, tc := range []struct {
		in      string
		ssl     bool
		want    string
		wantErr bool
	}{
		{"minio.internal:9000", false, "minio.internal:9000", false},
		{"oss-cn-hangzhou.aliyuncs.com/", true, "oss-cn-hangzhou.aliyuncs.com", false},
		{"https://cos.ap-beijing.myqcloud.com", true, "cos.ap-beijing.myqcloud.com", false},
		{"http://127.0.0.1:9000/", false, "127.0.0.1:9000", false},
		{"https://s3.example.com", false, "", true},
		{"ftp://s3.example.com", false, "", true},
		{"http://s3.example.com/bucket", false, "", true},
		{"", false, "", true},
	} {
		got, err := s3Endpoint(tc.in, tc.ssl)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("s3Endpoint(%q, %v) = %q, %v", tc.in, tc.ssl, got, err)
		}
	}
}

// Above minio-go's 16 MiB multipart threshold the store still sends one PUT;
// the object must arrive byte for byte (a multipart upload with streaming
// signatures would not, on services that do not decode aws-chunked bodies).
func TestS3LargeObject(t *testing.T) {
	h := oneS3Harness(t)
	data := makePDF(t, 17*mib, 42)
	obj, err := h.store.Put(context.Background(), bytes.NewReader(data), 20*mib)
	if err != nil {
		t.Fatal(err)
	}
	if got, o := readAll(t, h.store, obj.SHA256); !bytes.Equal(got, data) || o != obj {
		t.Fatalf("Open = %+v with %d bytes; put %+v with %d bytes", o, len(got), obj, len(data))
	}
	assertNoLeftovers(t, h)
}
