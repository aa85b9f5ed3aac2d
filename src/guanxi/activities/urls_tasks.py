from django.urls import path

from guanxi.activities import views_followups, views_notifications, views_tasks

urlpatterns = [
    path("", views_tasks.task_my_day, name="task-my-day"),
    path("new", views_tasks.task_create, name="task-create"),
    path("links", views_tasks.task_links, name="task-links"),
    path("customer/<int:customer_id>", views_tasks.task_customer_card, name="task-customer-card"),
    path("<int:task_id>/", views_tasks.task_detail, name="task-detail"),
    path("<int:task_id>/edit", views_tasks.task_edit, name="task-edit"),
    path("<int:task_id>/complete", views_tasks.task_complete, name="task-complete"),
    path("<int:task_id>/reopen", views_tasks.task_reopen, name="task-reopen"),
    path("<int:task_id>/cancel", views_tasks.task_cancel, name="task-cancel"),
    path("calendar/", views_tasks.calendar, name="calendar"),
    path("calendar/feed/reset", views_tasks.calendar_feed_reset, name="calendar-feed-reset"),
    path("calendar/feed/delete", views_tasks.calendar_feed_delete, name="calendar-feed-delete"),
    path("calendar/<str:token>.ics", views_tasks.calendar_feed, name="calendar-feed"),
    path("notifications/", views_notifications.notification_list, name="notification-list"),
    path("notifications/bell", views_notifications.notification_bell, name="notification-bell"),
    path("notifications/read", views_notifications.notification_read_all, name="notification-read-all"),
    path(
        "notifications/<int:notification_id>/open",
        views_notifications.notification_open,
        name="notification-open",
    ),
    path("followups/", views_followups.followup_list, name="followup-list"),
    path("followups/new", views_followups.followup_create, name="followup-create"),
    path("followups/<int:rule_id>/edit", views_followups.followup_edit, name="followup-edit"),
    path("followups/<int:rule_id>/delete", views_followups.followup_delete, name="followup-delete"),
]
