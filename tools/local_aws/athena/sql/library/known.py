"""Trino functions the local endpoint does not implement, by name.

A call to one of these fails with NOT_SUPPORTED naming the local endpoint (a loud, honest answer),
while a name Trino does not know at all fails as Athena fails, FUNCTION_NOT_FOUND. The list is Trino's
function list (trino.io/docs/current/functions/list.html) minus what ``library`` registers.
"""

from __future__ import annotations

TRINO_FUNCTIONS = frozenset(
    """
    all_keys_match any_keys_match any_values_match approx_most_frequent approx_most_frequent_agg approx_set
    array_agg_distinct array_first array_histogram array_last bar beta_cdf bing_tile bing_tile_at
    bing_tile_coordinates bing_tile_polygon bing_tile_quadkey bing_tile_zoom_level bing_tiles_around
    bitwise_xor_agg char2hexint checksum classify color combinations cosine_distance cosine_similarity crc32
    current_catalog current_groups current_schema current_user date_bin dot_product euclidean_distance
    evaluate_classifier_predictions features format_number from_big_endian_32 from_big_endian_64
    from_encoded_polyline from_geojson_geometry from_ieee754_32 from_ieee754_64 from_iso8601_timestamp_nanos
    from_unixtime_nanos geometry_from_hadoop_shape geometry_invalid_reason geometry_nearest_points
    geometry_to_bing_tiles geometry_union great_circle_distance hash_counts hmac_md5 hmac_sha1 hmac_sha256
    hmac_sha512 human_readable_seconds inverse_beta_cdf inverse_normal_cdf jaccard_index json_array
    json_exists json_object json_query json_value learn_classifier learn_libsvm_classifier
    learn_libsvm_regressor learn_regressor line_interpolate_point line_locate_point localtime make_set_digest
    map_union merge merge_set_digest murmur3 normal_cdf numeric_histogram objectid parse_data_size
    parse_duration parse_presto_data_size qdigest_agg quantile_at_value reduce_agg regress render rgb
    scale_qdigest sha512 shuffle simplify_geometry soundex spooky_hash_v2_32 spooky_hash_v2_64 st_area
    st_asbinary st_astext st_boundary st_buffer st_centroid st_contains st_convexhull st_coorddim st_crosses
    st_difference st_dimension st_disjoint st_distance st_endpoint st_envelope st_equals st_exteriorring
    st_geometries st_geometryfromtext st_geometrytype st_interiorringn st_intersection st_intersects
    st_isclosed st_isempty st_isring st_issimple st_isvalid st_length st_linefromtext st_linestring
    st_multipoint st_numgeometries st_numinteriorring st_numpoints st_overlaps st_point st_pointn st_points
    st_polygon st_relate st_startpoint st_symdifference st_touches st_union st_within st_x st_xmax st_xmin
    st_y st_ymax st_ymin t_cdf t_pdf tdigest_agg timezone to_big_endian_32 to_big_endian_64 to_char to_date
    to_encoded_polyline to_geojson_geometry to_geometry to_ieee754_32 to_ieee754_64 to_spherical_geography
    to_timestamp url_decode url_encode url_extract_fragment url_extract_host url_extract_parameter
    url_extract_path url_extract_port url_extract_protocol url_extract_query value_at_quantile
    values_at_quantiles wilson_interval_lower wilson_interval_upper word_stem xxhash64
    """.split()  # noqa: SIM905 - a word list reads better than 180 quoted strings
)
