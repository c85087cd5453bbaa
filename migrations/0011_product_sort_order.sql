-- The order the admin gives products: lower first. GET /api/products lists by
-- sort_order, then best sellers, then oldest (id); the index serves that order
-- and its cursor, so the listing's old (is_deleted, status, sale) index goes.
ALTER TABLE chat_product
  ADD COLUMN sort_order int NOT NULL DEFAULT 0 AFTER status,
  ADD KEY idx_product_order (is_deleted, status, sort_order, sale DESC, id),
  DROP KEY idx_product_listing;
