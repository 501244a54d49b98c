package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// HTTPVerifier asks a real-name verification service (实名核验, such as the
// province's population database interface) whether a name and identity
// number belong together. The request is POST {"name", "id_number"} with a
// bearer key; the answer is {"match": true|false}. Adapting to a given
// province's interface means a small gateway in front of it, or another
// RealNameVerifier.
type HTTPVerifier struct {
	url    string
	key    string
	client *http.Client
}

// NewHTTPVerifier checks the address and key.
func NewHTTPVerifier(rawURL, key string, client *http.Client) (*HTTPVerifier, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("实名核验服务地址应为 http(s):// 开头的完整地址")
	}
	if key == "" {
		return nil, errors.New("未设置实名核验服务密钥")
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &HTTPVerifier{url: rawURL, key: key, client: client}, nil
}

// Verify implements RealNameVerifier. Neither the key nor the identity
// number appears in its errors.
func (v *HTTPVerifier) Verify(ctx context.Context, name, idNumber string) (bool, error) {
	body, _ := json.Marshal(map[string]string{"name": name, "id_number": idNumber})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+v.key)
	resp, err := v.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("real-name service: %w", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("real-name service answered %s", resp.Status)
	}
	var out struct {
		Match *bool `json:"match"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&out); err != nil || out.Match == nil {
		return false, errors.New("real-name service: answer without \"match\"")
	}
	return *out.Match, nil
}
