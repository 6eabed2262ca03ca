package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/latchid/latch/api"
	"github.com/latchid/latch/internal/storage"
)

// CreateTenant stores a new tenant. ErrConflict if the id exists.
func (s *Store) CreateTenant(ctx context.Context, t api.Tenant) error {
	doc, err := jsonDoc(t)
	if err == nil {
		_, err = s.write(ctx, "INSERT INTO tenants (id, name, doc) VALUES ($1, $2, $3)", []any{t.ID, t.Name, doc})
	}
	return wrapf(err, "create tenant %s", t.ID)
}

// scanTenant reads the doc column of a tenants row.
func scanTenant(r pgx.Row) (api.Tenant, error) {
	var t api.Tenant
	err := r.Scan(jsonCol{&t})
	return t, err
}

// GetTenant returns a tenant. ErrNotFound if none has the id.
func (s *Store) GetTenant(ctx context.Context, id string) (api.Tenant, error) {
	t, err := get(ctx, s, "SELECT doc FROM tenants WHERE id = $1", []any{id}, scanTenant)
	return t, wrapf(err, "get tenant %s", id)
}

// ListTenants returns every tenant in the order they were created.
func (s *Store) ListTenants(ctx context.Context) ([]api.Tenant, error) {
	ts, err := list(ctx, s, "SELECT doc FROM tenants ORDER BY seq", nil, scanTenant)
	return ts, wrapf(err, "list tenants")
}

// UpdateTenant replaces a tenant. ErrNotFound if none has the id.
func (s *Store) UpdateTenant(ctx context.Context, t api.Tenant) error {
	doc, err := jsonDoc(t)
	if err == nil {
		err = execOne(s.exec(ctx, "UPDATE tenants SET name = $1, doc = $2 WHERE id = $3", t.Name, doc, t.ID))
	}
	return wrapf(err, "update tenant %s", t.ID)
}

// DeleteTenant deletes a tenant with its applications, users (and so their
// registrations, sessions and login failures) and tenant-scoped API keys.
// ErrNotFound if none has the id.
func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	return wrapf(execOne(s.exec(ctx, "DELETE FROM tenants WHERE id = $1", id)), "delete tenant %s", id)
}

// appDoc is the document stored for a: the client secret is never kept.
func appDoc(a storage.Application) ([]byte, error) {
	doc := a.Application
	doc.OAuthConfiguration.ClientSecret = ""
	return jsonDoc(doc)
}

// CreateApplication stores a new application; OAuthConfiguration.ClientSecret
// is not stored. ErrConflict if the id exists; ErrNotFound if the tenant does not.
func (s *Store) CreateApplication(ctx context.Context, a storage.Application) error {
	doc, err := appDoc(a)
	if err == nil {
		_, err = s.write(ctx, `INSERT INTO applications (id, tenant_id, name, client_secret_hash, client_secret_sealed, doc)
			VALUES ($1, $2, $3, $4, $5, $6)`, []any{a.ID, a.TenantID, a.Name, blob(a.ClientSecretHash), blob(a.ClientSecretSealed), doc})
	}
	return wrapf(err, "create application %s", a.ID)
}

const appCols = "doc, client_secret_hash, client_secret_sealed"

// scanApplication reads appCols.
func scanApplication(r pgx.Row) (storage.Application, error) {
	var a storage.Application
	err := r.Scan(jsonCol{&a.Application}, blobCol{&a.ClientSecretHash}, blobCol{&a.ClientSecretSealed})
	return a, err
}

// GetApplication returns an application. ErrNotFound if none has the id.
func (s *Store) GetApplication(ctx context.Context, id string) (storage.Application, error) {
	a, err := get(ctx, s, "SELECT "+appCols+" FROM applications WHERE id = $1", []any{id}, scanApplication)
	return a, wrapf(err, "get application %s", id)
}

// ListApplications returns a tenant's applications ("" for all) in the
// order they were created.
func (s *Store) ListApplications(ctx context.Context, tenantID string) ([]storage.Application, error) {
	query, args := "SELECT "+appCols+" FROM applications ORDER BY seq", []any(nil)
	if tenantID != "" {
		query, args = "SELECT "+appCols+" FROM applications WHERE tenant_id = $1 ORDER BY seq", []any{tenantID}
	}
	as, err := list(ctx, s, query, args, scanApplication)
	return as, wrapf(err, "list applications of tenant %q", tenantID)
}

// UpdateApplication replaces an application, its client secret hash and
// sealed secret included. ErrNotFound if none has the id, or if the new tenant does not exist.
func (s *Store) UpdateApplication(ctx context.Context, a storage.Application) error {
	doc, err := appDoc(a)
	if err == nil {
		err = execOne(s.write(ctx, `UPDATE applications SET tenant_id = $1, name = $2, client_secret_hash = $3,
			client_secret_sealed = $4, doc = $5 WHERE id = $6`,
			[]any{a.TenantID, a.Name, blob(a.ClientSecretHash), blob(a.ClientSecretSealed), doc, a.ID}))
	}
	return wrapf(err, "update application %s", a.ID)
}

// DeleteApplication deletes an application with its registrations and
// sessions. ErrNotFound if none has the id.
func (s *Store) DeleteApplication(ctx context.Context, id string) error {
	return wrapf(execOne(s.exec(ctx, "DELETE FROM applications WHERE id = $1", id)), "delete application %s", id)
}
