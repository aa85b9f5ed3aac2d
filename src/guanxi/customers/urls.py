from guanxi.customers import urls_config, urls_detail, urls_export, urls_list, urls_merge

urlpatterns = [
    *urls_list.urlpatterns,
    *urls_export.urlpatterns,
    *urls_merge.urlpatterns,
    *urls_detail.urlpatterns,
    *urls_config.urlpatterns,
]
