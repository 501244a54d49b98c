package app

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/zwfw/zwfw/internal/apikey"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/board"
	"github.com/zwfw/zwfw/internal/bundle"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/calendardays"
	"github.com/zwfw/zwfw/internal/casework"
	"github.com/zwfw/zwfw/internal/catalog"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/complaint"
	"github.com/zwfw/zwfw/internal/config"
	"github.com/zwfw/zwfw/internal/evaluation"
	"github.com/zwfw/zwfw/internal/hall"
	"github.com/zwfw/zwfw/internal/identity"
	"github.com/zwfw/zwfw/internal/integration"
	"github.com/zwfw/zwfw/internal/jobs"
	"github.com/zwfw/zwfw/internal/licence"
	"github.com/zwfw/zwfw/internal/open311"
	"github.com/zwfw/zwfw/internal/pii"
	"github.com/zwfw/zwfw/internal/rating"
	"github.com/zwfw/zwfw/internal/region"
	"github.com/zwfw/zwfw/internal/sms"
	"github.com/zwfw/zwfw/internal/staging"
	"github.com/zwfw/zwfw/internal/stats"
	"github.com/zwfw/zwfw/internal/store"
	"github.com/zwfw/zwfw/internal/survey"
	"github.com/zwfw/zwfw/internal/throttle"
	"github.com/zwfw/zwfw/internal/usage"
	"github.com/zwfw/zwfw/internal/web"
	"github.com/zwfw/zwfw/internal/webhook"
)

// Graph is the platform's parts, wired once by Build for serve, the demo
// and the commands: one database, one clock, one calendar with the local
// days, and the domain services built on them.
type Graph struct {
	Log      *slog.Logger
	DB       *store.DB
	Clock    clock.Clock
	Keys     *pii.Keys
	Calendar *calendar.Calendar  // the national days and the local ones
	Days     *calendardays.Store // the local days; its watcher keeps Calendar current
	Regions  *region.Store
	Catalog  *catalog.Store
	Identity *identity.Service
	Files    *staging.Store // nil unless asked for (Options.Files or Server)
	Cases    *casework.Service
	Ratings  *rating.Service // 好差评: invited when a case finishes
	// Complaints (有诉即应); a closed one invites its complainant to rate it.
	Complaints *complaint.Service
	// Boards and surveys (表扬台, 曝光台, 问卷).
	Boards  *board.Service
	Surveys *survey.Service
	Stats   *stats.Service  // statistics and dashboards (issue 10)
	APIKeys *apikey.Service // keys of other systems (Open311 clients)
	// Webhooks (issue 12): events of cases and complaints for the
	// subscriptions of API clients.
	Webhooks *webhook.Service
	// The demo's built-in receiver (/demo/webhook); nil outside the demo.
	Inbox *webhook.Inbox
	// Integration (issue 12): API clients, the sharing directory and the
	// data-sharing access log, over the same key store.
	Integration *integration.Service
	// Module usage and the self-evaluation (绩效自评); Uses counts a
	// server's requests (nil in a command's graph).
	Usage      *usage.Service
	Uses       *usage.Counter
	Evaluation *evaluation.Service
	// The hall (预约, 取号叫号): the service centres' window groups,
	// bookings and queue numbers.
	Halls   *hall.Service
	Bundles *bundle.Service // 一件事一次办
	// 电子证照 (e-licences, issue 12): issued when a case is completed.
	Licences *licence.Service

	// A server's parts (Options.Server); nil in a command's graph.
	Queue    *jobs.Queue // the job queue with every worker registered, not started
	Searcher *catalog.Searcher
	Handler  http.Handler // pages, API, health; wrapped in the middleware
	Metrics  http.Handler

	ownDB bool
}

// Options says what Build makes and with what. The zero value is a
// command's graph on the configured database and the system clock.
type Options struct {
	Log   *slog.Logger // default: discard
	Clock clock.Clock  // default: the system clock; the demo's past days and tests pass theirs
	Keys  *pii.Keys    // the personal-data keys; nil where nothing sealed is read or written
	// DB, when set, is an open database to build on (Close leaves it
	// open): the demo makes its past cases through a second graph on the
	// server's database with its own clock.
	DB *store.DB
	// Files opens the file store (cfg's data folder or S3) for a command.
	Files bool
	// Server builds a server's graph: migrations when cfg.Migrate, the
	// configured SMS, mail and real-name services, the file store, the job
	// queue and its workers, the search index and the handlers. Demo is
	// the demo's server (its SMS page, the mail log, metrics on the
	// public address).
	Server, Demo bool
	// Prepare runs in a server's graph once the database, identity and
	// files are there and before the calendar is read and the catalog
	// indexed: the demo seeds its district there.
	Prepare func(context.Context, *Graph) error
}

// Build opens the database and wires the parts. A command's graph
// refuses a schema that does not match the binary, as serve does.
func Build(ctx context.Context, cfg config.Config, o Options) (_ *Graph, err error) {
	g := &Graph{Log: o.Log, DB: o.DB, Clock: o.Clock, Keys: o.Keys}
	if g.Log == nil {
		g.Log = slog.New(slog.DiscardHandler)
	}
	if g.Clock == nil {
		g.Clock = clock.System{}
	}
	log, clk := g.Log, g.Clock
	if g.DB == nil {
		if g.DB, err = openDB(ctx, cfg, cfg.DatabaseURL); err != nil {
			return nil, err
		}
		g.ownDB = true
	}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	db := g.DB
	if o.Server && cfg.Migrate {
		applied, err := db.Migrate(ctx)
		if err != nil {
			return nil, fmt.Errorf("迁移失败：%w", err)
		}
		for _, m := range applied {
			log.Info("migration applied", "version", m.Version, "name", m.Name)
		}
	}
	st, err := db.Status(ctx)
	if err != nil {
		return nil, err
	}
	if err := st.Check(); err != nil {
		return nil, err
	}

	// Commands send no messages: their identity service only logs a code
	// it would send, and always asks staff for the second factor.
	idOpts := identity.Options{Keys: g.Keys, SMS: sms.NewDev(log, 0), Clock: clk, Log: log, RequireTOTP: true}
	var devSMS *sms.Dev
	if o.Server {
		sender, dev, err := smsSender(cfg, log)
		if err != nil {
			return nil, err
		}
		mailer, err := mailSender(cfg, log, o.Demo)
		if err != nil {
			return nil, err
		}
		idOpts = identity.Options{Keys: g.Keys, SMS: sender, Mail: mailer, Clock: clk, Log: log.With("part", "identity"), RequireTOTP: cfg.StaffTOTP}
		if cfg.RealNameURL != "" {
			v, err := identity.NewHTTPVerifier(cfg.RealNameURL, cfg.RealNameKey, nil)
			if err != nil {
				return nil, usageError{fmt.Errorf("配置错误 ZWFW_REALNAME_URL / ZWFW_REALNAME_KEY：%w", err)}
			}
			idOpts.Verifier = v
		}
		if o.Demo {
			devSMS = dev // the page that shows sent messages exists only in the demo
		} else if cfg.SMSURL == "" {
			log.Warn("no SMS gateway configured (ZWFW_SMS_URL): one-time codes are only written to the log")
		}
	}
	g.Identity = identity.New(db, idOpts)
	if o.Server || o.Files {
		stored, err := fileStore(ctx, cfg)
		if err != nil {
			return nil, err
		}
		// Small uploads wait in the database until moved (internal/staging).
		g.Files = staging.New(db, stored)
	}
	g.Regions = region.NewStore(db).WithClock(clk)
	g.Catalog = catalog.NewStore(db, g.Regions, clk)
	// Deadlines count with the local days; in a server, the watcher
	// started with it keeps this calendar in step with changes made on
	// any instance.
	g.Calendar, g.Days = calendar.New(nil), calendardays.New(db, clk, log.With("part", "calendar"))
	g.Cases = casework.New(db, g.Catalog, clk, g.Calendar)
	g.Cases.UseKeys(g.Keys)
	g.Cases.UseKnown(func(ctx context.Context, q store.Querier, account, enterprise int64) (casework.Known, error) {
		k, err := g.Identity.Known(ctx, q, account, enterprise)
		return casework.Known(k), err
	})
	g.APIKeys = apikey.NewService(db, clk)
	if g.Files != nil {
		g.Cases.UseFiles(g.Files, cfg.MaxPendingBytes)
	}
	// 好差评: every case the department finishes invites its applicant to
	// rate it, in the finishing step's transaction (casework does not
	// import rating). The complaints part's closing hook goes to
	// g.Ratings.Invite the same way.
	g.Ratings = rating.New(db, g.Catalog, clk, g.Calendar, rating.Options{Keys: g.Keys, RectifyDays: cfg.RatingRectifyDays, PublicURL: cfg.PublicURL})
	g.Cases.OnFinished(g.Ratings.InviteCase)
	// Complaints (有诉即应): limits on the same calendar as cases.
	g.Complaints = complaint.New(db, complaint.Options{Clock: clk, Calendar: g.Calendar, Regions: g.Regions, Keys: g.Keys, Files: g.Files,
		Hotline:   complaint.HotlineSystem{URL: cfg.HotlineStatusURL, Token: cfg.HotlineToken},
		OfficeDay: cfg.OfficeDay, ReopenDays: cfg.ComplaintReopenDays,
		VerifyCode: func(ctx context.Context, mobile, code string) error {
			return g.Identity.VerifyCode(ctx, mobile, identity.PurposeComplaint, code)
		}})
	// A closed complaint invites its complainant to rate it (好差评), in
	// the closing transaction; anonymous and phoned-in complaints have no
	// account to invite. The category, not the complainant's title, names
	// it: the title may hold personal data and is published with any
	// rectification.
	g.Complaints.SetOnClosed(func(ctx context.Context, tx *store.Tx, c complaint.Complaint) error {
		if c.AccountID == 0 {
			return nil
		}
		return g.Ratings.Invite(ctx, tx, rating.Subject{Kind: rating.OfComplaint, ID: c.ID, Number: c.Number,
			Title: c.CategoryName, DepartmentID: c.DepartmentID, RegionCode: c.RegionCode, PersonID: c.AccountID, Scene: rating.Online})
	})
	// Boards and surveys: finished cases, answered complaints and rated
	// services are the boards' sources (board.Source), one tab each on the
	// supervisors' page, in this order.
	g.Boards = board.New(db, clk, g.Cases.BoardSource(), g.Complaints.BoardSource(), g.Ratings.BoardSource())
	g.Surveys = survey.New(db, clk, g.Keys)
	// Statistics (issue 10): every change of a case adjusts the counters
	// in its own transaction (casework does not import stats).
	g.Stats = stats.New(db, clk)
	// Webhooks (issue 12): a change of a case or complaint records its
	// event in its own transaction, after the statistics (casework and
	// complaint do not import webhook). A command's graph has no queue,
	// and so records none: commands send no messages.
	allow := cfg.WebhookAllow
	if o.Demo {
		// The demo posts to its own receiver page, on the loopback
		// address (serve subscribes it once it listens).
		g.Inbox = webhook.NewInbox(50)
		allow = append(slices.Clone(allow), "127.0.0.1")
	}
	if g.Webhooks, err = webhook.NewService(db, webhook.Options{Clock: clk, Keys: g.Keys, Allow: allow,
		Timeout: cfg.WebhookTimeout, MaxAttempts: cfg.WebhookMaxAttempts}); err != nil {
		return nil, usageError{fmt.Errorf("配置错误 ZWFW_WEBHOOK_ALLOW：%w", err)}
	}
	// Integration (issue 12): a client's call that changes a case writes
	// its access-log entry in the change's transaction, naming the case
	// and its applicant.
	g.Integration = integration.New(db, clk, g.APIKeys)
	g.Cases.OnChanged(func(ctx context.Context, tx *store.Tx, before, after casework.Case) error {
		if err := stats.Changed(ctx, tx, before, after); err != nil {
			return err
		}
		if err := g.Webhooks.CaseChanged(ctx, tx, before, after); err != nil {
			return err
		}
		return integration.Changed(ctx, tx, integration.CaseRecord(after.Number), integration.AccountRecord(after.ApplicantID))
	})
	g.Complaints.SetOnChanged(g.Webhooks.ComplaintChanged)
	g.Ratings.OnRated(g.Webhooks.RatingCreated)
	// Module usage and the self-evaluation (绩效自评): the indicators
	// computed from live data are the sources registered here, the case
	// statistics' four rates (网上可办率, 按时办结率, 最多跑一次率,
	// 一次性告知率) among them (caseRates).
	// 一件事一次办 (internal/bundle): its parts are cases, made and started
	// through casework (ApplyParts; waiting parts start in the
	// prerequisite's completing step), so it needs no hook of its own.
	g.Bundles = bundle.New(db, g.Catalog, g.Regions, g.Cases, clk)
	g.Usage = usage.New(db, clk, cfg.UsageIdleDays)
	system, err := evaluation.Load(cfg.EvaluationFile)
	if err != nil {
		return nil, usageError{fmt.Errorf("配置错误 ZWFW_EVALUATION_FILE：%w", err)}
	}
	var evidenceFiles evaluation.Files
	if g.Files != nil {
		evidenceFiles = g.Files
	}
	sources := map[string]evaluation.Source{
		"archives":             evaluation.ArchiveSource(g.Cases),
		"module_use":           evaluation.ModuleSource(g.Usage),
		"satisfaction":         evaluation.SatisfactionSource(g.Ratings),
		"bad_callback":         evaluation.CallbackSource(g.Ratings),
		"complaint_resolution": evaluation.ComplaintSource(g.Complaints),
	}
	maps.Copy(sources, evaluation.CaseRateSources(caseRates{g.Stats}))
	g.Evaluation = evaluation.New(db, evaluation.Options{System: system, Clock: clk, Files: evidenceFiles, Cases: g.Cases,
		Sources: sources,
		Evidence: map[string]func(context.Context, evaluation.Period) ([]evaluation.Table, error){
			"on_time_rate": evaluation.LateEvidence(g.Cases),
		}})
	// The hall (预约, 取号叫号): slots follow the calendar with its local days.
	g.Halls = hall.New(db, clk, g.Calendar, g.Keys, g.Regions)
	// 电子证照 (e-licences, issue 12): an approved case of an item with a
	// licence template issues its licence in the completing step's
	// transaction, and a valid licence is offered as a material (免提交);
	// casework imports neither.
	lk, err := licenceKeys(cfg)
	if err != nil {
		return nil, err
	}
	if lk == nil && o.Server {
		log.Warn("no licence keys configured (ZWFW_LICENCE_KEYS): no e-licence is issued or verified")
	}
	g.Licences = licence.New(db, licence.Options{Clock: clk, Catalog: g.Catalog, Keys: lk, PublicURL: cfg.PublicURL,
		Holder: func(ctx context.Context, q store.Querier, account, enterprise int64) (licence.Holder, error) {
			k, err := g.Identity.Known(ctx, q, account, enterprise)
			return licence.Holder{Name: k.Name, IDNumber: k.IDNumber, OrgName: k.OrgName, CreditCode: k.CreditCode}, err
		}})
	g.Cases.OnFinished(g.Licences.Issue)
	g.Cases.OnOffers(g.Licences.Offers)
	if o.Prepare != nil {
		if err := o.Prepare(ctx, g); err != nil {
			return nil, err
		}
	}
	if _, err := g.Days.Load(ctx, g.Calendar); err != nil {
		return nil, fmt.Errorf("无法读取本地工作日历：%w", err)
	}
	if !o.Server {
		return g, nil
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, &casework.SMSWorker{Send: g.Identity.SendToAccount})
	river.AddWorker(workers, &casework.MailWorker{Send: g.Identity.MailToAccount})
	river.AddWorker(workers, &casework.DeadlineWorker{Service: g.Cases})
	river.AddWorker(workers, &staging.DrainWorker{Store: g.Files, Clock: clk})
	river.AddWorker(workers, &staging.SweepWorker{Store: g.Files, Clock: clk, Log: log.With("part", "files")})
	// 好差评: reminders to rate and the rectification warnings, hourly.
	river.AddWorker(workers, &rating.CheckWorker{Service: g.Ratings})
	periodic := []*river.PeriodicJob{casework.PeriodicDeadlineCheck(time.Hour), staging.PeriodicDrain(2 * time.Second), staging.PeriodicSweep(time.Hour),
		rating.PeriodicCheck(time.Hour)}
	// Complaints: texts to complainants, and the limit check every minute
	// (limits may be an hour long).
	river.AddWorker(workers, &complaint.SMSWorker{Service: g.Complaints, Send: g.Identity.SendToMobile})
	river.AddWorker(workers, &complaint.CheckWorker{Service: g.Complaints})
	river.AddWorker(workers, &complaint.HotlineWorker{Service: g.Complaints})
	periodic = append(periodic, complaint.PeriodicCheck(time.Minute))
	// Webhooks: each delivery is a job, retried with the service's backoff.
	river.AddWorker(workers, &webhook.Worker{Service: g.Webhooks})
	if cfg.AuditCheckpoint != "" {
		// The leader checks the record and renews the checkpoint hourly.
		river.AddWorker(workers, &casework.CheckpointWorker{DB: db, Path: cfg.AuditCheckpoint, Clock: clk})
		periodic = append(periodic, casework.PeriodicCheckpoint(time.Hour))
	}
	// Issue 13: with an SMS gateway, one-time codes go out through the
	// queue, so a stalled gateway slows no request (identity/codejob.go);
	// the demo's in-memory sender cannot stall and shows codes at once.
	river.AddWorker(workers, &identity.CodeWorker{Service: g.Identity})
	if g.Queue, err = jobs.New(db, workers, jobs.Options{Workers: cfg.JobWorkers, Logger: log.With("part", "jobs"),
		Periodic: periodic}); err != nil {
		return nil, err
	}
	if g.Searcher, err = catalog.NewSearcher(ctx, g.Catalog, log.With("part", "search")); err != nil {
		return nil, fmt.Errorf("无法建立事项搜索索引：%w", err)
	}
	g.Cases.UseQueue(g.Queue)
	g.Ratings.UseQueue(g.Queue)
	g.Complaints.UseQueue(g.Queue)
	g.Webhooks.UseQueue(g.Queue)
	if cfg.SMSURL != "" {
		g.Identity.UseQueue(g.Queue) // issue 13: see CodeWorker above
	}
	provider, err := oidcProvider(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	// Open311 GeoReport v2 over the complaints, for clients with a key.
	o311 := open311.New(open311.Deps{Complaints: g.Complaints, Keys: g.APIKeys, Regions: g.Regions, Clock: clk, Log: log.With("part", "open311"),
		PublicURL: cfg.PublicURL, Test: o.Demo})
	g.Uses = usage.NewCounter(db, clk)
	g.Handler, g.Metrics, err = newHandler(log, db, g.Queue, g.Files, g.Uses, cfg, o.Demo, web.Deps{OIDC: provider, Log: log, Audit: audit.NewLog(db), Throttle: throttle.New(db, clk), Regions: g.Regions,
		Catalog: g.Catalog, Searcher: g.Searcher, Identity: g.Identity, Cases: g.Cases, Ratings: g.Ratings, Calendar: g.Calendar, Days: g.Days, Files: g.Files,
		Complaints: g.Complaints, Jobs: g.Queue, Clock: clk, PublicURL: cfg.PublicURL, Demo: o.Demo, DevSMS: devSMS,
		Boards: g.Boards, Surveys: g.Surveys, Stats: g.Stats, Usage: g.Usage, Evaluation: g.Evaluation,
		Halls: g.Halls, Bundles: g.Bundles, Licences: g.Licences, Webhooks: g.Webhooks, WebhookInbox: g.Inbox,
		Integration: g.Integration}, o311)
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Close closes the database if Build opened it.
func (g *Graph) Close() error {
	if g.ownDB {
		return g.DB.Close()
	}
	return nil
}
