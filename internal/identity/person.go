package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/ident"
	"github.com/zwfw/zwfw/internal/mail"
	"github.com/zwfw/zwfw/internal/password"
	"github.com/zwfw/zwfw/internal/store"
)

// Registration is what a citizen gives to open an account.
type Registration struct {
	Name     string
	IDNumber string
	Mobile   string
	Code     string // the one-time code sent to Mobile
	Password string // optional: without one, the person signs in by code
	// Consent is the version of the privacy notice the person agreed to
	// (PrivacyVersion): no account is opened without it.
	Consent string
}

// PrivacyVersion is the version of the privacy notice (个人信息处理告知书,
// the page /privacy) that registration asks people to agree to. Change it
// with the notice's text: an account records the version agreed to, and a
// form sent against an older one is asked again.
const PrivacyVersion = "2026-12-07"

// Register opens a citizen's account after checking the phone code, the
// identity number (GB 11643, with a real birth date) and, if given, the
// password policy. It signs the person in and returns the session token.
func (s *Service) Register(ctx context.Context, r Registration, meta Meta) (Account, string, error) {
	now := s.opt.Clock.Now()
	name := strings.TrimSpace(r.Name)
	var problems []string
	if n := utf8.RuneCountInString(name); n < 2 || n > 30 {
		problems = append(problems, "姓名应为2至30个字")
	}
	card, err := ident.ParseIDCard(r.IDNumber, now.In(chinaTime))
	if err != nil {
		problems = append(problems, err.Error())
	}
	mobile, mobileIdx, err := s.mobileIndex(r.Mobile)
	if err != nil {
		problems = append(problems, apperr.MessageOf(err))
	}
	var hash string
	if r.Password != "" {
		if err := s.opt.Policy.Check(r.Password, mobile, card.Number); err != nil {
			problems = append(problems, err.Error())
		} else if hash, err = password.Hash(r.Password); err != nil {
			return Account{}, "", err
		}
	}
	switch r.Consent {
	case PrivacyVersion:
	case "":
		problems = append(problems, "请阅读《个人信息处理告知书》，并勾选同意")
	default:
		problems = append(problems, "《个人信息处理告知书》已更新，请重新阅读并勾选同意")
	}
	if len(problems) > 0 {
		return Account{}, "", apperr.New(apperr.Invalid, strings.Join(problems, "；"))
	}
	realName := false
	if s.opt.Verifier != nil {
		ok, err := s.opt.Verifier.Verify(ctx, name, card.Number)
		if err != nil {
			return Account{}, "", apperr.Wrap(apperr.Unavailable, "实名核验服务暂不可用，请稍后再试。", err)
		}
		if !ok {
			return Account{}, "", apperr.New(apperr.Invalid, "姓名与身份证号码不一致，实名核验未通过。")
		}
		realName = true
	}
	idSealed, err := s.opt.Keys.Seal(card.Number, ctxIDNumber)
	if err != nil {
		return Account{}, "", err
	}
	mobileSealed, err := s.opt.Keys.Seal(mobile, ctxMobile)
	if err != nil {
		return Account{}, "", err
	}
	var acc Account
	var token string
	var wrongCode bool
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.consumeCode(ctx, tx, mobileIdx, PurposeRegister, r.Code); err == errWrongCode {
			wrongCode = true
			return nil
		} else if err != nil {
			return err
		}
		status := "unverified"
		if realName {
			status = "verified"
		}
		var changed any
		if hash != "" {
			changed = now
		}
		err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, id_number_sealed, id_number_index, id_number_masked,
			mobile_sealed, mobile_index, mobile_masked, password_hash, password_changed_at, totp_required, real_name_status,
			privacy_version, privacy_consented_at, created_at, updated_at)
			VALUES ('person', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			name, idSealed, s.opt.Keys.Index("id_number", card.Number), ident.MaskIDCard(card.Number),
			mobileSealed, mobileIdx, ident.MaskMobile(mobile), hash, changed, false, status, r.Consent, now, now, now).Scan(&acc.ID)
		if store.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "该手机号或身份证号码已注册，请直接登录。")
		}
		if err != nil {
			return err
		}
		if token, err = s.newSession(ctx, tx, acc.ID, meta); err != nil {
			return err
		}
		if err := s.recordSignIn(ctx, tx, acc.ID, "register", true, "", meta); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, acc.ID, "register", fmt.Sprintf("account:%d", acc.ID), "注册个人账户", meta); err != nil {
			return err
		}
		return s.audit(ctx, tx, acc.ID, "privacy_consent", fmt.Sprintf("account:%d", acc.ID),
			"同意《个人信息处理告知书》（版本 "+r.Consent+"），含单独同意处理身份证号码", meta)
	})
	if err != nil {
		return Account{}, "", err
	}
	if wrongCode {
		return Account{}, "", errWrongCode
	}
	acc, err = s.Account(ctx, acc.ID)
	return acc, token, err
}

var chinaTime = time.FixedZone("CST", 8*3600)

// SignInWithCode signs a citizen in with a one-time code sent to their phone.
func (s *Service) SignInWithCode(ctx context.Context, mobile, code string, meta Meta) (string, error) {
	_, idx, err := s.mobileIndex(mobile)
	if err != nil {
		return "", err
	}
	var token string
	var failure error
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// The code is checked first: only someone who received it learns
		// whether the number is registered.
		id, disabled, unknown := personByMobile(ctx, tx, idx)
		if unknown != nil && !apperr.Is(unknown, apperr.NotFound) {
			return unknown
		}
		if err := s.consumeCode(ctx, tx, idx, PurposeSignIn, code); err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				return err
			}
			// The failure is recorded (and a wrong try counted) before it is reported.
			failure = err
			return s.failed(ctx, tx, id, "code", apperr.MessageOf(err), meta)
		}
		if unknown != nil {
			// Only now, the number proven theirs, is the person told it is
			// not registered: the same code then registers it (for as long
			// as it would have lasted), so that they need not wait for
			// another.
			failure = ErrUnregistered
			now := s.opt.Clock.Now()
			_, err := tx.Exec(ctx, `INSERT INTO otp_codes (mobile_index, purpose, code_hash, ip, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
				idx, PurposeRegister, s.codeHash(idx, PurposeRegister, code), meta.IP, now, now.Add(codeTTL))
			return err
		}
		if disabled {
			failure = apperr.New(apperr.Forbidden, "该账户已停用，请联系管理员。")
			return s.failed(ctx, tx, id, "code", "账户已停用", meta)
		}
		// The code proves the number is theirs: this address is then
		// known to the account, as after a password sign-in.
		if err := s.throttle.Succeed(ctx, tx, attempt{key: personKey(idx), ip: meta.IP}.pair()); err != nil {
			return err
		}
		if token, err = s.newSession(ctx, tx, id, meta); err != nil {
			return err
		}
		return s.succeeded(ctx, tx, id, "code", meta)
	})
	if err == nil {
		err = failure
	}
	return token, err
}

// ErrUnregistered answers a sign-in code, verified, for a number no
// account has: the code then registers the number (Register with it).
var ErrUnregistered = apperr.New(apperr.NotFound, "该手机号尚未注册。验证码已核验，填写姓名和身份证号码即可注册，无须再获取验证码。")

// SignInWithPassword signs a citizen in with mobile and password, within
// the same limits as staff.
func (s *Service) SignInWithPassword(ctx context.Context, mobile, pass string, meta Meta) (string, error) {
	_, idx, err := s.mobileIndex(mobile)
	if err != nil {
		return "", err
	}
	return s.passwordSignIn(ctx, accountRef{kind: "person", column: "mobile_index", value: idx, key: personKey(idx),
		method: "password", bad: errBadCredentials}, pass, "", meta)
}

var errBadCredentials = apperr.New(apperr.Unauthorized, "账号或密码不正确。")

func personByMobile(ctx context.Context, tx *store.Tx, idx string) (int64, bool, error) {
	var id int64
	var disabled bool
	err := tx.QueryRow(ctx, `SELECT id, disabled FROM accounts WHERE kind = 'person' AND mobile_index = ?`, idx).Scan(&id, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, apperr.New(apperr.NotFound, "该手机号尚未注册，请先注册。")
	}
	return id, disabled, err
}

// Account returns an account as the platform shows it.
func (s *Service) Account(ctx context.Context, id int64) (Account, error) {
	var a Account
	var username sql.NullString
	var dept sql.NullInt64
	var status, hash, totp string
	err := s.db.Read().QueryRow(ctx, `SELECT id, kind, name, username, id_number_masked, mobile_masked, department_id,
		real_name_status, password_hash, totp_sealed, totp_required, disabled, created_at FROM accounts WHERE id = ?`, id).
		Scan(&a.ID, &a.Kind, &a.Name, &username, &a.IDNumberMasked, &a.MobileMasked, &dept, &status, &hash, &totp,
			&a.TOTPRequired, &a.Disabled, &a.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return a, apperr.New(apperr.NotFound, "账户不存在")
	}
	if err != nil {
		return a, err
	}
	a.Username, a.DepartmentID, a.RealName, a.HasPassword = username.String, dept.Int64, status == "verified", hash != ""
	email, err := s.email(ctx, s.db.Read(), id)
	if err != nil {
		return a, err
	}
	if email != "" {
		a.EmailMasked = mail.Mask(email)
	}
	if a.Kind == "staff" {
		a.Roles, err = roles(ctx, s.db.Read(), id)
	}
	return a, err
}

// SignIn is one entry of a person's sign-in history.
type SignIn struct {
	Method  string
	Success bool
	Reason  string
	IP      string
	Client  string
	At      time.Time
}

// History lists an account's sign-ins, newest first.
func (s *Service) History(ctx context.Context, accountID int64, limit int) ([]SignIn, error) {
	rows, err := s.db.Read().Query(ctx, `SELECT method, success, reason, ip, client, at FROM sign_ins
		WHERE account_id = ? ORDER BY id DESC LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SignIn
	for rows.Next() {
		var h SignIn
		if err := rows.Scan(&h.Method, &h.Success, &h.Reason, &h.IP, &h.Client, &h.At); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *Service) recordSignIn(ctx context.Context, tx *store.Tx, accountID int64, method string, ok bool, reason string, meta Meta) error {
	var acc any
	if accountID != 0 {
		acc = accountID
	}
	_, err := tx.Exec(ctx, `INSERT INTO sign_ins (account_id, method, success, reason, ip, client, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		acc, method, ok, reason, meta.IP, shorten(meta.Client, 200), s.opt.Clock.Now())
	return err
}

func (s *Service) succeeded(ctx context.Context, tx *store.Tx, id int64, method string, meta Meta) error {
	if err := s.recordSignIn(ctx, tx, id, method, true, "", meta); err != nil {
		return err
	}
	return s.audit(ctx, tx, id, "signin", fmt.Sprintf("account:%d", id), "登录（"+method+"）", meta)
}

func (s *Service) failed(ctx context.Context, tx *store.Tx, id int64, method, reason string, meta Meta) error {
	if err := s.recordSignIn(ctx, tx, id, method, false, reason, meta); err != nil {
		return err
	}
	return s.audit(ctx, tx, id, "signin_failed", fmt.Sprintf("account:%d", id), reason, meta)
}

// audit appends to the audit log in tx, naming the actor by account.
func (s *Service) audit(ctx context.Context, tx *store.Tx, actorID int64, action, object, detail string, meta Meta) error {
	actor, regionCode := "匿名", ""
	if actorID != 0 {
		var name, kind string
		var username sql.NullString
		// A staff member's entries belong to their department's region,
		// for supervisors' scoped search; citizens' to none.
		if err := tx.QueryRow(ctx, `SELECT a.name, a.kind, a.username, COALESCE(d.region_code, '') FROM accounts a
			LEFT JOIN departments d ON d.id = a.department_id WHERE a.id = ?`, actorID).Scan(&name, &kind, &username, &regionCode); err != nil {
			return err
		}
		actor = name
		if username.Valid {
			actor += "（" + username.String + "）"
		}
	}
	return audit.Append(ctx, tx, audit.Entry{At: s.opt.Clock.Now(), ActorID: actorID, Actor: actor, Action: action,
		Object: object, Detail: detail, IP: meta.IP, RegionCode: regionCode})
}

// ChangeMobile moves a citizen's account to a new mobile number, proven by
// a code sent to that number.
func (s *Service) ChangeMobile(ctx context.Context, accountID int64, mobile, code string, meta Meta) error {
	m, idx, err := s.mobileIndex(mobile)
	if err != nil {
		return err
	}
	sealed, err := s.opt.Keys.Seal(m, ctxMobile)
	if err != nil {
		return err
	}
	var wrongCode bool
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.consumeCode(ctx, tx, idx, PurposeChangeMobile, code); err == errWrongCode {
			wrongCode = true
			return nil
		} else if err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE accounts SET mobile_sealed = ?, mobile_index = ?, mobile_masked = ?, updated_at = ? WHERE id = ? AND kind = 'person'`,
			sealed, idx, ident.MaskMobile(m), s.opt.Clock.Now(), accountID)
		if store.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "该手机号已被其他账户使用。")
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, accountID, "mobile_change", fmt.Sprintf("account:%d", accountID), "更换手机号码为 "+ident.MaskMobile(m), meta)
	})
	if err == nil && wrongCode {
		return errWrongCode
	}
	return err
}

// MobileMatches reports whether mobile is the account's number, through the
// keyed index, without opening the sealed value.
func (s *Service) MobileMatches(ctx context.Context, accountID int64, mobile string) (bool, error) {
	_, idx, err := s.mobileIndex(mobile)
	if err != nil {
		return false, nil
	}
	var stored sql.NullString
	if err := s.db.Read().QueryRow(ctx, `SELECT mobile_index FROM accounts WHERE id = ?`, accountID).Scan(&stored); err != nil {
		return false, err
	}
	return stored.Valid && stored.String == idx, nil
}

// PersonAtCounter finds the citizen with this identity number, or opens
// an account for them: they can later sign in with a code sent to the
// mobile number given here.
func (s *Service) PersonAtCounter(ctx context.Context, clerk int64, name, idNumber, mobile string, meta Meta) (int64, error) {
	find, err := s.CounterApplicant(clerk, name, idNumber, mobile, meta)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		id, err = find(ctx, tx)
		return err
	})
	return id, err
}

// CounterApplicant checks the identity number a window clerk typed in for
// a walk-in applicant and returns the step that, in the caller's
// transaction, finds the citizen with it or opens their account (with its
// audit entry): a counter intake runs it in the case's own transaction,
// so that an intake that fails leaves no account behind.
func (s *Service) CounterApplicant(clerk int64, name, idNumber, mobile string, meta Meta) (func(context.Context, *store.Tx) (int64, error), error) {
	return s.applicantFor(clerk, name, idNumber, mobile, "窗口收件时为申请人开设账户", meta)
}

// applicantFor is CounterApplicant for staff who take an application for a
// person (at the counter, or 帮办代办), an account opened on the way
// audited with detail.
func (s *Service) applicantFor(clerk int64, name, idNumber, mobile, detail string, meta Meta) (func(context.Context, *store.Tx) (int64, error), error) {
	card, err := ident.ParseIDCard(idNumber, s.opt.Clock.Now().In(chinaTime))
	if err != nil {
		return nil, apperr.Wrap(apperr.Invalid, err.Error(), err)
	}
	idx := s.opt.Keys.Index("id_number", card.Number)
	return func(ctx context.Context, tx *store.Tx) (int64, error) {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE kind = 'person' AND id_number_index = ?`, idx).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
		name := strings.TrimSpace(name)
		if n := utf8.RuneCountInString(name); n < 2 || n > 30 {
			return 0, apperr.New(apperr.Invalid, "姓名应为2至30个字")
		}
		idSealed, err := s.opt.Keys.Seal(card.Number, ctxIDNumber)
		if err != nil {
			return 0, err
		}
		var mobileSealed, mobileIdx any
		masked := ""
		if mobile != "" {
			m, mi, err := s.mobileIndex(mobile)
			if err != nil {
				return 0, err
			}
			sealed, err := s.opt.Keys.Seal(m, ctxMobile)
			if err != nil {
				return 0, err
			}
			mobileSealed, mobileIdx, masked = sealed, mi, ident.MaskMobile(m)
		}
		now := s.opt.Clock.Now()
		err = tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, id_number_sealed, id_number_index, id_number_masked, mobile_sealed, mobile_index,
			mobile_masked, totp_required, created_at, updated_at) VALUES ('person', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			name, idSealed, idx, ident.MaskIDCard(card.Number), mobileSealed, mobileIdx, masked, false, now, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return 0, apperr.New(apperr.Conflict, "该手机号已被其他账户使用。")
		}
		if err != nil {
			return 0, err
		}
		return id, s.audit(ctx, tx, clerk, "person_at_counter", fmt.Sprintf("account:%d", id), detail, meta)
	}, nil
}

// SendToMobile texts a number (a complainant's, who may have no account).
func (s *Service) SendToMobile(ctx context.Context, mobile, text string) error {
	return s.opt.SMS.Send(ctx, mobile, text)
}

// SendToAccount texts an account's mobile number, if it has one. It opens
// the sealed number only to hand it to the SMS sender.
func (s *Service) SendToAccount(ctx context.Context, accountID int64, text string) error {
	var sealed sql.NullString
	if err := s.db.Read().QueryRow(ctx, `SELECT mobile_sealed FROM accounts WHERE id = ?`, accountID).Scan(&sealed); err != nil {
		return err
	}
	if !sealed.Valid || sealed.String == "" {
		return nil
	}
	mobile, err := s.opt.Keys.Open(sealed.String, ctxMobile)
	if err != nil {
		return err
	}
	return s.opt.SMS.Send(ctx, mobile, text)
}
