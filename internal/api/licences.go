package api

import (
	"net/http"
	"strings"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/httpx"
	"github.com/zwfw/zwfw/internal/licence"
)

// 电子证照 (e-licences, issue 12): public verification of a licence's
// token, as its QR code's page shows it.

type licenceVerificationOut struct {
	Valid      bool         `json:"valid"`
	Status     string       `json:"status"`            // 有效, 无效, 已吊销, 已注销
	Problem    string       `json:"problem,omitempty"` // why not valid
	Known      bool         `json:"known"`             // the platform holds this licence
	RevokeKind string       `json:"revoke_kind,omitempty"`
	RevokedOn  string       `json:"revoked_on,omitempty"`
	Licence    licence.Data `json:"licence"`
}

func (a *API) verifyLicence(w http.ResponseWriter, r *http.Request) error {
	if a.licences == nil {
		return apperr.New(apperr.Unavailable, "电子证照服务未启用。")
	}
	token := strings.TrimSpace(r.URL.Query().Get("token"))
	if token == "" {
		return apperr.New(apperr.Invalid, "请提供证照令牌（token）。")
	}
	v, err := a.licences.Verify(r.Context(), token)
	if err != nil {
		return err
	}
	if v.Data.Fields == nil {
		v.Data.Fields = []licence.Field{}
	}
	httpx.WriteJSON(w, http.StatusOK, licenceVerificationOut{Valid: v.Valid, Status: v.Status(), Problem: v.Problem, Known: v.Known,
		RevokeKind: v.RevokeKind, RevokedOn: v.RevokedOn, Licence: v.Data})
	return nil
}
