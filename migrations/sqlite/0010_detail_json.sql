-- Issue 8: a product's items and images kept beside it as JSON text, so the uncached product
-- detail is a one-row read (see the PostgreSQL migration of the same number). Triggers keep the
-- copies in the same statement as every change to package_items / product_images.
ALTER TABLE packages ADD COLUMN items_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE packages ADD COLUMN images_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE campaigns ADD COLUMN images_json TEXT NOT NULL DEFAULT '[]';

CREATE TRIGGER package_items_insert AFTER INSERT ON package_items BEGIN
    UPDATE packages SET items_json = (SELECT json_group_array(json_object('id', i.id, 'name', i.name, 'quantity', i.quantity)
        ORDER BY i.id) FROM package_items i WHERE i.package_id = NEW.package_id)
        WHERE id = NEW.package_id;
END;

CREATE TRIGGER package_items_update AFTER UPDATE ON package_items BEGIN
    UPDATE packages SET items_json = (SELECT json_group_array(json_object('id', i.id, 'name', i.name, 'quantity', i.quantity)
        ORDER BY i.id) FROM package_items i WHERE i.package_id = OLD.package_id)
        WHERE id = OLD.package_id;
    UPDATE packages SET items_json = (SELECT json_group_array(json_object('id', i.id, 'name', i.name, 'quantity', i.quantity)
        ORDER BY i.id) FROM package_items i WHERE i.package_id = NEW.package_id)
        WHERE id = NEW.package_id;
END;

CREATE TRIGGER package_items_delete AFTER DELETE ON package_items BEGIN
    UPDATE packages SET items_json = (SELECT json_group_array(json_object('id', i.id, 'name', i.name, 'quantity', i.quantity)
        ORDER BY i.id) FROM package_items i WHERE i.package_id = OLD.package_id)
        WHERE id = OLD.package_id;
END;

CREATE TRIGGER product_images_insert AFTER INSERT ON product_images BEGIN
    UPDATE packages SET images_json = (SELECT json_group_array(json_object('id', g.id, 'file_name', g.file_name,
        'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type,
        'size_bytes', g.size_bytes,
        'is_primary', json(CASE WHEN g.is_primary THEN 'true' ELSE 'false' END),
        'sort_order', g.sort_order, 'alt_text', g.alt_text, 'uploaded_at', g.uploaded_at)
        ORDER BY g.is_primary DESC, g.sort_order ASC, g.uploaded_at DESC, g.id DESC)
        FROM product_images g WHERE g.product_type = 'package' AND g.product_id = NEW.product_id)
        WHERE NEW.product_type = 'package' AND id = NEW.product_id;
    UPDATE campaigns SET images_json = (SELECT json_group_array(json_object('id', g.id, 'file_name', g.file_name,
        'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type,
        'size_bytes', g.size_bytes,
        'is_primary', json(CASE WHEN g.is_primary THEN 'true' ELSE 'false' END),
        'sort_order', g.sort_order, 'alt_text', g.alt_text, 'uploaded_at', g.uploaded_at)
        ORDER BY g.is_primary DESC, g.sort_order ASC, g.uploaded_at DESC, g.id DESC)
        FROM product_images g WHERE g.product_type = 'campaign' AND g.product_id = NEW.product_id)
        WHERE NEW.product_type = 'campaign' AND id = NEW.product_id;
END;

CREATE TRIGGER product_images_update AFTER UPDATE ON product_images BEGIN
    UPDATE packages SET images_json = (SELECT json_group_array(json_object('id', g.id, 'file_name', g.file_name,
        'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type,
        'size_bytes', g.size_bytes,
        'is_primary', json(CASE WHEN g.is_primary THEN 'true' ELSE 'false' END),
        'sort_order', g.sort_order, 'alt_text', g.alt_text, 'uploaded_at', g.uploaded_at)
        ORDER BY g.is_primary DESC, g.sort_order ASC, g.uploaded_at DESC, g.id DESC)
        FROM product_images g WHERE g.product_type = 'package' AND g.product_id = OLD.product_id)
        WHERE OLD.product_type = 'package' AND id = OLD.product_id;
    UPDATE campaigns SET images_json = (SELECT json_group_array(json_object('id', g.id, 'file_name', g.file_name,
        'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type,
        'size_bytes', g.size_bytes,
        'is_primary', json(CASE WHEN g.is_primary THEN 'true' ELSE 'false' END),
        'sort_order', g.sort_order, 'alt_text', g.alt_text, 'uploaded_at', g.uploaded_at)
        ORDER BY g.is_primary DESC, g.sort_order ASC, g.uploaded_at DESC, g.id DESC)
        FROM product_images g WHERE g.product_type = 'campaign' AND g.product_id = OLD.product_id)
        WHERE OLD.product_type = 'campaign' AND id = OLD.product_id;
    UPDATE packages SET images_json = (SELECT json_group_array(json_object('id', g.id, 'file_name', g.file_name,
        'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type,
        'size_bytes', g.size_bytes,
        'is_primary', json(CASE WHEN g.is_primary THEN 'true' ELSE 'false' END),
        'sort_order', g.sort_order, 'alt_text', g.alt_text, 'uploaded_at', g.uploaded_at)
        ORDER BY g.is_primary DESC, g.sort_order ASC, g.uploaded_at DESC, g.id DESC)
        FROM product_images g WHERE g.product_type = 'package' AND g.product_id = NEW.product_id)
        WHERE NEW.product_type = 'package' AND id = NEW.product_id;
    UPDATE campaigns SET images_json = (SELECT json_group_array(json_object('id', g.id, 'file_name', g.file_name,
        'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type,
        'size_bytes', g.size_bytes,
        'is_primary', json(CASE WHEN g.is_primary THEN 'true' ELSE 'false' END),
        'sort_order', g.sort_order, 'alt_text', g.alt_text, 'uploaded_at', g.uploaded_at)
        ORDER BY g.is_primary DESC, g.sort_order ASC, g.uploaded_at DESC, g.id DESC)
        FROM product_images g WHERE g.product_type = 'campaign' AND g.product_id = NEW.product_id)
        WHERE NEW.product_type = 'campaign' AND id = NEW.product_id;
END;

CREATE TRIGGER product_images_delete AFTER DELETE ON product_images BEGIN
    UPDATE packages SET images_json = (SELECT json_group_array(json_object('id', g.id, 'file_name', g.file_name,
        'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type,
        'size_bytes', g.size_bytes,
        'is_primary', json(CASE WHEN g.is_primary THEN 'true' ELSE 'false' END),
        'sort_order', g.sort_order, 'alt_text', g.alt_text, 'uploaded_at', g.uploaded_at)
        ORDER BY g.is_primary DESC, g.sort_order ASC, g.uploaded_at DESC, g.id DESC)
        FROM product_images g WHERE g.product_type = 'package' AND g.product_id = OLD.product_id)
        WHERE OLD.product_type = 'package' AND id = OLD.product_id;
    UPDATE campaigns SET images_json = (SELECT json_group_array(json_object('id', g.id, 'file_name', g.file_name,
        'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type,
        'size_bytes', g.size_bytes,
        'is_primary', json(CASE WHEN g.is_primary THEN 'true' ELSE 'false' END),
        'sort_order', g.sort_order, 'alt_text', g.alt_text, 'uploaded_at', g.uploaded_at)
        ORDER BY g.is_primary DESC, g.sort_order ASC, g.uploaded_at DESC, g.id DESC)
        FROM product_images g WHERE g.product_type = 'campaign' AND g.product_id = OLD.product_id)
        WHERE OLD.product_type = 'campaign' AND id = OLD.product_id;
END;

UPDATE packages SET items_json = (SELECT json_group_array(json_object('id', i.id, 'name', i.name, 'quantity', i.quantity)
        ORDER BY i.id) FROM package_items i WHERE i.package_id = packages.id),
    images_json = (SELECT json_group_array(json_object('id', g.id, 'file_name', g.file_name,
        'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type,
        'size_bytes', g.size_bytes,
        'is_primary', json(CASE WHEN g.is_primary THEN 'true' ELSE 'false' END),
        'sort_order', g.sort_order, 'alt_text', g.alt_text, 'uploaded_at', g.uploaded_at)
        ORDER BY g.is_primary DESC, g.sort_order ASC, g.uploaded_at DESC, g.id DESC)
        FROM product_images g WHERE g.product_type = 'package' AND g.product_id = packages.id);
UPDATE campaigns SET images_json = (SELECT json_group_array(json_object('id', g.id, 'file_name', g.file_name,
        'thumbnail_name', g.thumbnail_name, 'content_type', g.content_type,
        'size_bytes', g.size_bytes,
        'is_primary', json(CASE WHEN g.is_primary THEN 'true' ELSE 'false' END),
        'sort_order', g.sort_order, 'alt_text', g.alt_text, 'uploaded_at', g.uploaded_at)
        ORDER BY g.is_primary DESC, g.sort_order ASC, g.uploaded_at DESC, g.id DESC)
        FROM product_images g WHERE g.product_type = 'campaign' AND g.product_id = campaigns.id);
