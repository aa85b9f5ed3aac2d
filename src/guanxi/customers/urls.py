from guanxi.customers import urls_config, urls_detail, urls_list

urlpatterns = [*urls_list.urlpatterns, *urls_detail.urlpatterns, *urls_config.urlpatterns]
