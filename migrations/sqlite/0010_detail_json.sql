-- Issue 8: a product's items and images kept beside it as JSON text, so the uncached product
-- detail is a one-row read (see the PostgreSQL migration of the same number). Triggers keep the
-- copies in the same statement as every change to package_items / product_images; the two views
-- hold the one definition of each copy (items by id; images primary first, then by order, then
-- newest, then by id), as the PostgreSQL functions do.
ALTER TABLE packages ADD COLUMN items_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE packages ADD COLUMN images_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE campaigns ADD COLUMN images_json TEXT NOT NULL DEFAULT '[]';

CREATE VIEW package_items_json AS
    SELECT package_id, json_group_array(json_object('id', id, 'name', name, 'quantity', quantity)
        ORDER BY id) AS doc
    FROM package_items GROUP BY package_id;

CREATE VIEW product_images_json AS
    SELECT product_type, product_id, json_group_array(json_object('id', id, 'file_name', file_name,
        'thumbnail_name', thumbnail_name, 'content_type', content_type, 'size_bytes', size_bytes,
        'is_primary', json(CASE WHEN is_primary THEN 'true' ELSE 'false' END),
        'sort_order', sort_order, 'alt_text', alt_text, 'uploaded_at', uploaded_at)
        ORDER BY is_primary DESC, sort_order ASC, uploaded_at DESC, id DESC) AS doc
    FROM product_images GROUP BY product_type, product_id;

CREATE TRIGGER package_items_insert AFTER INSERT ON package_items BEGIN
    UPDATE packages SET items_json = COALESCE((SELECT doc FROM package_items_json
        WHERE package_id = NEW.package_id), '[]') WHERE id = NEW.package_id;
END;

CREATE TRIGGER package_items_update AFTER UPDATE ON package_items BEGIN
    UPDATE packages SET items_json = COALESCE((SELECT doc FROM package_items_json
        WHERE package_id = packages.id), '[]') WHERE id IN (OLD.package_id, NEW.package_id);
END;

CREATE TRIGGER package_items_delete AFTER DELETE ON package_items BEGIN
    UPDATE packages SET items_json = COALESCE((SELECT doc FROM package_items_json
        WHERE package_id = OLD.package_id), '[]') WHERE id = OLD.package_id;
END;

CREATE TRIGGER product_images_insert AFTER INSERT ON product_images BEGIN
    UPDATE packages SET images_json = COALESCE((SELECT doc FROM product_images_json
        WHERE product_type = 'package' AND product_id = packages.id), '[]')
        WHERE NEW.product_type = 'package' AND id = NEW.product_id;
    UPDATE campaigns SET images_json = COALESCE((SELECT doc FROM product_images_json
        WHERE product_type = 'campaign' AND product_id = campaigns.id), '[]')
        WHERE NEW.product_type = 'campaign' AND id = NEW.product_id;
END;

CREATE TRIGGER product_images_update AFTER UPDATE ON product_images BEGIN
    UPDATE packages SET images_json = COALESCE((SELECT doc FROM product_images_json
        WHERE product_type = 'package' AND product_id = packages.id), '[]')
        WHERE (OLD.product_type = 'package' AND id = OLD.product_id)
           OR (NEW.product_type = 'package' AND id = NEW.product_id);
    UPDATE campaigns SET images_json = COALESCE((SELECT doc FROM product_images_json
        WHERE product_type = 'campaign' AND product_id = campaigns.id), '[]')
        WHERE (OLD.product_type = 'campaign' AND id = OLD.product_id)
           OR (NEW.product_type = 'campaign' AND id = NEW.product_id);
END;

CREATE TRIGGER product_images_delete AFTER DELETE ON product_images BEGIN
    UPDATE packages SET images_json = COALESCE((SELECT doc FROM product_images_json
        WHERE product_type = 'package' AND product_id = packages.id), '[]')
        WHERE OLD.product_type = 'package' AND id = OLD.product_id;
    UPDATE campaigns SET images_json = COALESCE((SELECT doc FROM product_images_json
        WHERE product_type = 'campaign' AND product_id = campaigns.id), '[]')
        WHERE OLD.product_type = 'campaign' AND id = OLD.product_id;
END;

UPDATE packages SET
    items_json = COALESCE((SELECT doc FROM package_items_json WHERE package_id = packages.id), '[]'),
    images_json = COALESCE((SELECT doc FROM product_images_json
        WHERE product_type = 'package' AND product_id = packages.id), '[]');
UPDATE campaigns SET images_json = COALESCE((SELECT doc FROM product_images_json
    WHERE product_type = 'campaign' AND product_id = campaigns.id), '[]');
