-- Issue 8: a product's items and images kept beside it as JSON text, so the uncached product
-- detail is a one-row read (the per-request json_agg subqueries were most of its database time).
-- Triggers keep the copies: every writer (admin, seed-demo, import-django, cascades) changes
-- package_items / product_images, and the copy changes in the same statement and transaction.
-- The shapes are what `catalog::products::detail` reads: items by id; images primary first, then
-- by order, then newest, then by id.
ALTER TABLE packages ADD COLUMN items_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE packages ADD COLUMN images_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE campaigns ADD COLUMN images_json TEXT NOT NULL DEFAULT '[]';

CREATE FUNCTION package_items_json(pid BIGINT) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT json_agg(json_build_object('id', i.id, 'name', i.name,
        'quantity', i.quantity) ORDER BY i.id)::text
        FROM package_items i WHERE i.package_id = pid), '[]')
$$;

CREATE FUNCTION product_images_json(ptype TEXT, pid BIGINT) RETURNS TEXT LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT json_agg(json_build_object('id', g.id, 'file_name', g.file_name,
        'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type,
        'size_bytes', g.size_bytes, 'is_primary', g.is_primary, 'sort_order', g.sort_order,
        'alt_text', g.alt_text, 'uploaded_at', g.uploaded_at)
        ORDER BY g.is_primary DESC, g.sort_order ASC, g.uploaded_at DESC, g.id DESC)::text
        FROM product_images g WHERE g.product_type = ptype AND g.product_id = pid), '[]')
$$;

CREATE FUNCTION product_images_refresh(ptype TEXT, pid BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF ptype = 'package' THEN
        UPDATE packages SET images_json = product_images_json(ptype, pid) WHERE id = pid;
    ELSIF ptype = 'campaign' THEN
        UPDATE campaigns SET images_json = product_images_json(ptype, pid) WHERE id = pid;
    END IF;
END
$$;

CREATE FUNCTION package_items_sync() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE packages SET items_json = package_items_json(OLD.package_id) WHERE id = OLD.package_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE packages SET items_json = package_items_json(NEW.package_id) WHERE id = NEW.package_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION product_images_sync() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM product_images_refresh(OLD.product_type, OLD.product_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM product_images_refresh(NEW.product_type, NEW.product_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER package_items_sync AFTER INSERT OR UPDATE OR DELETE ON package_items
    FOR EACH ROW EXECUTE FUNCTION package_items_sync();
CREATE TRIGGER product_images_sync AFTER INSERT OR UPDATE OR DELETE ON product_images
    FOR EACH ROW EXECUTE FUNCTION product_images_sync();

UPDATE packages SET items_json = package_items_json(id),
    images_json = product_images_json('package', id);
UPDATE campaigns SET images_json = product_images_json('campaign', id);
