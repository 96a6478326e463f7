CREATE FUNCTION shop.order_total(p_order_id bigint)
RETURNS bigint
LANGUAGE sql
STABLE
AS $$
    SELECT coalesce(sum(l.quantity * p.price_minor), 0)::bigint
      FROM shop.order_line AS l
      JOIN shop.product AS p ON p.id = l.product_id
     WHERE l.order_id = p_order_id
$$;
