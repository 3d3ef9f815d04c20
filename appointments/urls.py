from django.urls import path

from . import online_views, views, waitlist_views

app_name = "appointments"
urlpatterns = [
    path("", views.day_view, name="day"),
    path("week/", views.location_week, name="location_week"),
    path("week/<int:therapist_id>/", views.week_view, name="week"),
    path("today/", views.today, name="today"),
    path("book/", views.book, name="book"),
    path("book/patients/", views.patient_search, name="patient_search"),
    path("book/next-available/", views.next_available, name="next_available"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/check-in/", views.check_in, name="check_in"),
    path("<int:pk>/undo-check-in/", views.undo_check_in, name="undo_check_in"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/no-show/", views.no_show, name="no_show"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("<int:pk>/pay/", views.pay, name="pay"),
    path("<int:pk>/refund/", views.refund, name="refund"),
    path("<int:pk>/receipts/<int:payment_pk>/", views.receipt, name="receipt"),
    path("<int:pk>/receipts/<int:payment_pk>/email/", views.receipt_email, name="receipt_email"),
    path("online/", online_views.unverified, name="online_unverified"),
    path("online/<int:pk>/verify/", online_views.verify, name="online_verify"),
    path("online/<int:pk>/merge/", online_views.merge, name="online_merge"),
    path("schedules/", views.schedules, name="schedules"),
    path("waitlist/", waitlist_views.desk_list, name="waitlist"),
    path("waitlist/add/", waitlist_views.desk_add, name="waitlist_add"),
    path("waitlist/<int:pk>/remove/", waitlist_views.desk_remove, name="waitlist_remove"),
    path("schedules/<int:pk>/", views.therapist_schedule, name="therapist_schedule"),
]
