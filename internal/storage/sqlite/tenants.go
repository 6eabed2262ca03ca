package sqlite

import (
	"context"
	"time"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// CreateTenant stores a new tenant. ErrConflict if the id exists.
func (s *Store) CreateTenant(ctx context.Context, t api.Tenant) error {
	doc, err := jsonText(t)
	if err != nil {
		return wrapf(err, "create tenant %s", t.ID)
	}
	_, err = s.w().ExecContext(ctx, "INSERT INTO tenants (id, name, doc, inserted) VALUES (?, ?, ?, ?)",
		t.ID, t.Name, doc, time.Now().UnixMicro())
	return wrapf(err, "create tenant %s", t.ID)
}

// scanTenant reads the doc column of a tenants row.
func scanTenant(r rowScanner) (api.Tenant, error) {
	var t api.Tenant
	err := r.Scan(jsonCol{&t})
	return t, err
}

// GetTenant returns a tenant. ErrNotFound if none has the id.
func (s *Store) GetTenant(ctx context.Context, id string) (api.Tenant, error) {
	t, err := scanTenant(s.r().QueryRowContext(ctx, "SELECT doc FROM tenants WHERE id = ?", id))
	return t, wrapf(err, "get tenant %s", id)
}

// ListTenants returns every tenant in the order they were created.
func (s *Store) ListTenants(ctx context.Context) ([]api.Tenant, error) {
	rows, err := s.r().QueryContext(ctx, "SELECT doc FROM tenants ORDER BY rowid")
	ts, err := collect(rows, err, scanTenant)
	return ts, wrapf(err, "list tenants")
}

// UpdateTenant replaces a tenant. ErrNotFound if none has the id.
func (s *Store) UpdateTenant(ctx context.Context, t api.Tenant) error {
	doc, err := jsonText(t)
	if err == nil {
		err = execOne(ctx, s.w(), "UPDATE tenants SET name = ?, doc = ? WHERE id = ?", t.Name, doc, t.ID)
	}
	return wrapf(err, "update tenant %s", t.ID)
}

// DeleteTenant deletes a tenant with its applications, users (and so their
// registrations, sessions and login failures) and tenant-scoped API keys.
// ErrNotFound if none has the id.
func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	return wrapf(execOne(ctx, s.w(), "DELETE FROM tenants WHERE id = ?", id), "delete tenant %s", id)
}

// appDoc is the document stored for a: the client secret is never kept.
func appDoc(a storage.Application) (string, error) {
	doc := a.Application
	doc.OAuthConfiguration.ClientSecret = ""
	return jsonText(doc)
}

// CreateApplication stores a new application; OAuthConfiguration.ClientSecret
// is not stored. ErrConflict if the id exists; ErrNotFound if the tenant does not.
func (s *Store) CreateApplication(ctx context.Context, a storage.Application) error {
	doc, err := appDoc(a)
	if err == nil {
		_, err = s.w().ExecContext(ctx, `INSERT INTO applications (id, tenant_id, name, client_secret_hash, client_secret_sealed, doc, inserted)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.TenantID, a.Name, blob(a.ClientSecretHash), blob(a.ClientSecretSealed), doc, time.Now().UnixMicro())
	}
	return wrapf(err, "create application %s", a.ID)
}

const appCols = "doc, client_secret_hash, client_secret_sealed"

// scanApplication reads appCols.
func scanApplication(r rowScanner) (storage.Application, error) {
	var a storage.Application
	err := r.Scan(jsonCol{&a.Application}, blobCol{&a.ClientSecretHash}, blobCol{&a.ClientSecretSealed})
	return a, err
}

// GetApplication returns an application. ErrNotFound if none has the id.
func (s *Store) GetApplication(ctx context.Context, id string) (storage.Application, error) {
	a, err := scanApplication(s.r().QueryRowContext(ctx, "SELECT "+appCols+" FROM applications WHERE id = ?", id))
	return a, wrapf(err, "get application %s", id)
}

// ListApplications returns a tenant's applications ("" for all) in the
// order they were created.
func (s *Store) ListApplications(ctx context.Context, tenantID string) ([]storage.Application, error) {
	query, args := "SELECT "+appCols+" FROM applications ORDER BY rowid", []any(nil)
	if tenantID != "" {
		query, args = "SELECT "+appCols+" FROM applications WHERE tenant_id = ? ORDER BY rowid", []any{tenantID}
	}
	rows, err := s.r().QueryContext(ctx, query, args...)
	as, err := collect(rows, err, scanApplication)
	return as, wrapf(err, "list applications of tenant %q", tenantID)
}

// UpdateApplication replaces an application, its client secret hash and
// sealed secret included. ErrNotFound if none has the id.
func (s *Store) UpdateApplication(ctx context.Context, a storage.Application) error {
	doc, err := appDoc(a)
	if err == nil {
		err = execOne(ctx, s.w(), `UPDATE applications SET tenant_id = ?, name = ?, client_secret_hash = ?, client_secret_sealed = ?,
			doc = ? WHERE id = ?`, a.TenantID, a.Name, blob(a.ClientSecretHash), blob(a.ClientSecretSealed), doc, a.ID)
	}
	return wrapf(err, "update application %s", a.ID)
}

// DeleteApplication deletes an application with its registrations and
// sessions. ErrNotFound if none has the id.
func (s *Store) DeleteApplication(ctx context.Context, id string) error {
	return wrapf(execOne(ctx, s.w(), "DELETE FROM applications WHERE id = ?", id), "delete application %s", id)
}
