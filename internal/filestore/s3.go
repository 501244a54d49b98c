package filestore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config locates an S3-compatible bucket (AWS S3, MinIO, Aliyun OSS,
// Tencent COS, Huawei OBS, …).
type S3Config struct {
	// Endpoint is host[:port], e.g. "oss-cn-hangzhou.aliyuncs.com" or
	// "minio.internal:9000". A URL ("https://host:port") is accepted too; its
	// scheme must then agree with UseSSL.
	Endpoint  string
	Region    string // e.g. "cn-north-1"; empty lets the client ask the server
	Bucket    string // must exist: NewS3 checks it and does not create it
	AccessKey string
	SecretKey string
	UseSSL    bool // HTTPS; leave on outside tests
	// PathStyle addresses the bucket as endpoint/bucket (MinIO and most
	// self-hosted services). When false, the client picks: virtual-hosted
	// style (bucket.endpoint) for AWS and Aliyun endpoints, path style
	// elsewhere.
	PathStyle bool
	// TempDir is where uploads are spooled while they are hashed and checked;
	// empty means os.TempDir(). Optional.
	TempDir string
}

// S3 stores files in a bucket under the keys "sha256/<hex>". An upload is
// spooled to a local temporary file (bounded by maxBytes) while it is hashed
// and checked, then sent with one PUT, which S3 applies atomically: a reader
// sees the whole object or none. Content already stored is not sent again.
type S3 struct {
	client  *minio.Client
	bucket  string
	tempDir string
}

var _ Store = (*S3)(nil)

// s3Prefix starts the key of every object the store writes.
const s3Prefix = "sha256/"

// NewS3 connects to the bucket described by cfg and checks that it exists.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("filestore: S3 bucket not set")
	}
	endpoint, err := s3Endpoint(cfg.Endpoint, cfg.UseSSL)
	if err != nil {
		return nil, err
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.UseSSL,
		Region:       cfg.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("filestore: S3 client: %w", err)
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("filestore: S3 bucket %q at %s: %w", cfg.Bucket, endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("filestore: S3 bucket %q does not exist at %s", cfg.Bucket, endpoint)
	}
	tempDir := cfg.TempDir
	if tempDir == "" {
		tempDir = os.TempDir()
	}
	return &S3{client: client, bucket: cfg.Bucket, tempDir: tempDir}, nil
}

// s3Endpoint reduces an endpoint to the host[:port] the client wants.
func s3Endpoint(endpoint string, useSSL bool) (string, error) {
	if endpoint == "" {
		return "", errors.New("filestore: S3 endpoint not set")
	}
	if !strings.Contains(endpoint, "://") {
		return strings.TrimSuffix(endpoint, "/"), nil
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("filestore: S3 endpoint: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("filestore: S3 endpoint %q: scheme must be http or https", endpoint)
	case (u.Scheme == "https") != useSSL:
		return "", fmt.Errorf("filestore: S3 endpoint %q disagrees with UseSSL=%v", endpoint, useSSL)
	case u.Path != "" && u.Path != "/":
		return "", fmt.Errorf("filestore: S3 endpoint %q: must not have a path", endpoint)
	}
	return u.Host, nil
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, r io.Reader, maxBytes int64) (Object, error) {
	f, obj, err := spool(ctx, r, maxBytes, s.tempDir, "zwfw-upload-*")
	if err != nil {
		return Object{}, err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()

	key := s3Prefix + obj.SHA256
	if info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{}); err == nil && info.Size == obj.Size {
		return obj, nil // already stored
	} else if err != nil && !isS3NotFound(err) {
		return Object{}, s3Error("stat", key, err)
	}

	_, err = s.client.PutObject(ctx, s.bucket, key, f, obj.Size, minio.PutObjectOptions{
		ContentType: obj.ContentType,
		// Content-MD5 lets the server reject a body damaged in transit even
		// over HTTPS, where the payload is not signed.
		SendContentMd5: true,
		// One PUT (S3 takes up to 5 GiB that way, far above any upload
		// limit here): atomic, no incomplete multipart uploads left to bill
		// after a failure, and no aws-chunked streaming signatures, which
		// some S3-compatible services (and gofakes3's multipart path) do not
		// decode.
		DisableMultipart: true,
	})
	if err != nil {
		return Object{}, s3Error("put", key, err)
	}
	return obj, nil
}

// s3Error classifies a failed request. When the server gave no answer, or
// a 5xx one (down, restarting, killed mid-upload, unreachable, overloaded),
// the user is told the store is unavailable; a 4xx answer (a refused
// signature, a missing bucket) is a configuration fault and stays internal.
func s3Error(op, key string, err error) error {
	err = fmt.Errorf("filestore: S3 %s %s: %w", op, key, err)
	var er minio.ErrorResponse
	if errors.As(err, &er) && er.StatusCode != 0 && er.StatusCode < 500 {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err // the client went away: nobody to tell
	}
	return userError(ErrUnavailable, "", err)
}

// Open implements Store.
func (s *S3) Open(ctx context.Context, sum string) (io.ReadCloser, Object, error) {
	sum, ok := normalize(sum)
	if !ok {
		return nil, Object{}, notFound(sum, fmt.Errorf("filestore: invalid address %q", sum))
	}
	key := s3Prefix + sum
	o, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Object{}, s.openError(sum, key, err)
	}
	// GetObject is lazy: Stat makes the request and reports a missing key.
	info, err := o.Stat()
	if err != nil {
		o.Close()
		return nil, Object{}, s.openError(sum, key, err)
	}
	ctype := info.ContentType
	if !accepted(ctype) {
		// Stored by something other than this package (or metadata lost):
		// detect from the bytes, as Put does.
		head := make([]byte, sniffLen)
		n, err := o.ReadAt(head, 0)
		if err != nil && err != io.EOF {
			o.Close()
			return nil, Object{}, fmt.Errorf("filestore: S3 read %s: %w", key, err)
		}
		if ctype = DetectType(head[:n]); ctype == "" {
			o.Close()
			return nil, Object{}, fmt.Errorf("filestore: S3 object %s has an unknown type (damaged?)", key)
		}
	}
	return o, Object{SHA256: sum, Size: info.Size, ContentType: ctype}, nil
}

func (s *S3) openError(sum, key string, err error) error {
	if isS3NotFound(err) {
		return notFound(sum, err)
	}
	return s3Error("get", key, err)
}

// accepted reports whether ctype is one of the types Put writes.
func accepted(ctype string) bool {
	return ctype == TypePDF || ctype == TypeJPEG || ctype == TypePNG
}

// Exists implements Store.
func (s *S3) Exists(ctx context.Context, sum string) (bool, error) {
	sum, ok := normalize(sum)
	if !ok {
		return false, nil
	}
	_, err := s.client.StatObject(ctx, s.bucket, s3Prefix+sum, minio.StatObjectOptions{})
	if err == nil {
		return true, nil
	}
	if isS3NotFound(err) {
		return false, nil
	}
	return false, s3Error("stat", s3Prefix+sum, err)
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, sum string) error {
	sum, ok := normalize(sum)
	if !ok {
		return nil
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s3Prefix+sum, minio.RemoveObjectOptions{}); err != nil && !isS3NotFound(err) {
		return fmt.Errorf("filestore: S3 delete %s: %w", s3Prefix+sum, err)
	}
	return nil
}

// List implements Store.
func (s *S3) List(ctx context.Context, fn func(string, time.Time) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing when fn fails
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s3Prefix, Recursive: true}) {
		if o.Err != nil {
			return fmt.Errorf("filestore: S3 list: %w", o.Err)
		}
		if sum := strings.TrimPrefix(o.Key, s3Prefix); ValidSHA256(sum) {
			if err := fn(sum, o.LastModified); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// isS3NotFound reports whether err says the key does not exist.
func isS3NotFound(err error) bool {
	var er minio.ErrorResponse
	if !errors.As(err, &er) {
		return false
	}
	return er.Code == "NoSuchKey" || er.Code == "NotFound" ||
		(er.StatusCode == http.StatusNotFound && er.Code != "NoSuchBucket")
}
