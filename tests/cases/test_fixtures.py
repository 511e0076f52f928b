def test_case_fixtures_build(grids, departments, reporter, tree):
    from shequ.registry.selectors import grid_locate

    assert grid_locate(lon=tree.a1.lon, lat=tree.a1.lat) == grids.a1
    assert departments.urban_handler.department == departments.urban
    assert reporter.is_verified_resident()
